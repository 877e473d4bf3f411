"""The group's goal profile (highest and lowest goals) and its number of mixed types."""

from __future__ import annotations

from typology.group import Member, analyse, divisive_goal, goal_extremes
from typology.types import TYPES

B, OPT, S, C = TYPES


def test_highest_and_lowest_goals_of_the_group() -> None:
    profiles = [
        {"a": -1.0, "b": -0.5, "d": 1.2, "g": 0.8, "j": 0.1},
        {"a": -0.8, "b": -0.9, "d": 1.0, "g": 1.0, "j": 0.0},
        {"a": -1.2, "b": -0.1, "d": 0.6, "g": 0.9, "j": -0.2},
    ]
    members = [Member(f"p{i}", OPT, p) for i, p in enumerate(profiles)]
    res = analyse(members)
    assert res.top_goals == ["d", "g"]  # means 0.93 and 0.9
    assert res.bottom_goals == ["a", "b"]


def test_goal_extremes_never_name_a_goal_twice() -> None:
    assert goal_extremes({"a": 1.0, "b": 0.0, "c": -1.0}) == (["a"], ["c"])
    assert goal_extremes({"a": 1.0}) == ([], [])
    assert goal_extremes({}) == ([], [])
    top, bottom = goal_extremes({"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0})
    assert not set(top) & set(bottom)


def test_mixed_types_are_counted() -> None:
    members = [Member(f"p{i}", OPT, {}, {}, mixed=i % 3 == 0) for i in range(9)]
    assert analyse(members).mixed == 3


def test_below_the_threshold_nothing_is_exposed() -> None:
    members = [Member("p1", OPT, {"a": 1.0, "b": -1.0}, {}, mixed=True)]
    res = analyse(members, k_threshold=3)
    assert res.mixed == 0
    assert res.top_goals == []
    assert res.bottom_goals == []


def test_the_goal_where_types_differ_most() -> None:
    optimisers = [Member(f"o{i}", OPT, {"a": 1.0, "b": 0.0, "c": 0.5}) for i in range(3)]
    service = [Member(f"s{i}", S, {"a": 0.8, "b": 1.5, "c": 0.4}) for i in range(3)]
    res = analyse(optimisers + service, k_threshold=3)
    assert res.divisive_goal == "b"  # 1.5 apart; a and c only 0.2 and 0.1


def test_a_type_with_fewer_than_k_members_stands_for_nobody() -> None:
    # One community manager far off on "a": a mean of one person would be their own answer.
    optimisers = [Member(f"o{i}", OPT, {"a": 0.0, "b": 0.0}) for i in range(3)]
    service = [Member(f"s{i}", S, {"a": 0.1, "b": 0.9}) for i in range(3)]
    lone = [Member("c0", C, {"a": 5.0, "b": 0.0})]
    assert divisive_goal(optimisers + service + lone, 3) == "b"  # not "a", 5.0 apart
    assert divisive_goal(optimisers + lone, 3) is None  # only one type has k members
    assert divisive_goal([], 3) is None

"""Group analysis and the D-Team builder."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from typology.group import (
    Member,
    analyse,
    balance,
    build_teams,
    disclosed,
    disclosed_counts,
    percent_shares,
)
from typology.types import TYPES, TypeId

B, OPT, S, C = TYPES


def _members(types: list[TypeId], **context: list[str]) -> list[Member]:
    return [
        Member(
            id=f"p{i}",
            main_type=t,
            profile={"a": float(i % 3), "d": 1.0},
            context={k: v[i] for k, v in context.items()},
        )
        for i, t in enumerate(types)
    ]


def test_composition_counts_shares_and_missing_types() -> None:
    res = analyse(_members([OPT] * 6 + [C] * 3 + [B]), k_threshold=5)
    assert res.counts == {B: 1, OPT: 6, S: 0, C: 3}
    assert res.shares == {B: 10, OPT: 60, S: 0, C: 30}
    assert res.missing == [S]
    assert res.under_represented == [B]
    assert 0 < (res.balance or 0) < 1
    assert res.mean_profile == {"a": 0.9, "d": 1.0}
    assert not res.below_threshold
    assert res.needed == 0


def test_balance_measure_bounds() -> None:
    assert balance([5, 0, 0, 0]) == 0.0
    assert balance([3, 3, 3, 3]) == 1.0
    assert balance([0, 0, 0, 0]) == 0.0
    assert analyse(_members([B, OPT, S, C] * 2), k_threshold=4).balance == 1.0


def test_shares_round_to_exactly_100() -> None:
    res = analyse(_members([B, OPT, S]))
    assert sum(res.shares.values()) == 100


@pytest.mark.parametrize(("n", "k", "needed"), [(0, 3, 3), (2, 3, 1), (4, 5, 1)])
def test_privacy_threshold_hides_the_composition(n: int, k: int, needed: int) -> None:
    res = analyse(_members([OPT] * n), k_threshold=k)
    assert res.below_threshold
    assert res.needed == needed
    assert res.n == n
    assert res.counts == {}
    assert res.shares == {}
    assert res.breakdown == {}
    assert res.balance is None
    assert res.mean_profile == {}


def test_breakdown_by_context_suppresses_small_cells() -> None:
    types = [OPT, OPT, C, B, S, OPT, C, B, S]
    roles = ["it", "it", "it", "leitung", "leitung", "leitung", "politik", "", ""]
    res = analyse(_members(types, role=roles), k_threshold=3)
    assert set(res.breakdown["role"]) == {"it", "leitung"}  # "politik" has one member
    assert res.breakdown["role"]["it"] == {B: 0, OPT: 2, S: 0, C: 1}
    assert "size" not in res.breakdown


def test_members_without_profiles_are_fine() -> None:
    res = analyse([Member(id=str(i), main_type=S) for i in range(6)])
    assert res.counts[S] == 6
    assert res.mean_profile == {}


def test_build_teams_example() -> None:
    members = [(f"o{i}", OPT) for i in range(5)] + [("b", B), ("s", S), ("c", C)]
    teams = build_teams(members, 4, seed=1)
    assert sorted(len(t) for t in teams) == [4, 4]
    kinds = dict(members)
    covered = sorted(len({kinds[m] for m in t}) for t in teams)
    assert covered == [2, 3]  # three singles over two teams: the best possible


@pytest.mark.parametrize(("size", "n"), [(1, 5), (0, 5), (6, 5)])
def test_build_teams_rejects_bad_sizes(size: int, n: int) -> None:
    with pytest.raises(ValueError, match="team size"):
        build_teams([(str(i), OPT) for i in range(n)], size)


def test_build_teams_rejects_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        build_teams([("a", OPT), ("a", B)], 2)


groups = st.lists(st.sampled_from(TYPES), min_size=2, max_size=60)


@settings(max_examples=200, deadline=None)
@given(groups, st.integers(2, 8), st.integers(0, 1000))
def test_team_builder_sizes_and_coverage(types: list[TypeId], size: int, seed: int) -> None:
    size = min(size, len(types))
    members = [(f"m{i}", t) for i, t in enumerate(types)]
    teams = build_teams(members, size, seed=seed)
    assert sorted(m for t in teams for m in t) == sorted(m for m, _ in members)
    lengths = [len(t) for t in teams]
    assert max(lengths) - min(lengths) <= 1
    assert min(lengths) >= 2
    kinds = dict(members)
    counts = Counter(types)
    m = len(teams)
    # every type lands in as many teams as it can: min(its count, number of teams)
    for t, c in counts.items():
        assert sum(any(kinds[x] == t for x in team) for team in teams) == min(c, m)
    assert build_teams(members, size, seed=seed) == teams


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(any))
def test_percent_shares_add_up_to_100_and_stay_within_one_point(counts: list[int]) -> None:
    shares = percent_shares(counts)
    assert sum(shares) == 100
    total = sum(counts)
    for count, share in zip(counts, shares, strict=True):
        assert math.floor(100 * count / total) <= share <= math.ceil(100 * count / total)


def test_percent_shares_of_nothing_are_zero() -> None:
    assert percent_shares([0, 0, 0, 0]) == [0, 0, 0, 0]
    assert percent_shares([]) == []
    with pytest.raises(ValueError, match="negative"):
        percent_shares([1, -1])


@pytest.mark.parametrize(
    ("n", "k", "shown"), [(0, 3, 0), (2, 3, 0), (3, 3, 3), (5, 3, 3), (6, 3, 6)]
)
def test_disclosed_keeps_the_first_whole_steps_of_k(n: int, k: int, shown: int) -> None:
    assert disclosed(list(range(n)), k) == list(range(shown))


def test_one_more_finisher_changes_nothing_until_the_step_is_complete() -> None:
    order = [OPT, C, B, S, S, OPT, C]
    steps = [analyse(_members(order[:n]), k_threshold=3) for n in range(3, 8)]
    assert steps[0].counts == steps[1].counts == steps[2].counts == {B: 1, OPT: 1, S: 0, C: 1}
    assert steps[3].counts == steps[4].counts == {B: 1, OPT: 2, S: 2, C: 1}
    assert [s.n for s in steps] == [3, 4, 5, 6, 7]
    assert [s.counted for s in steps] == [3, 3, 3, 6, 6]
    assert steps[1].mean_profile == steps[0].mean_profile  # no profile leaks either
    assert disclosed_counts([t.value for t in order[:5]], 3) == steps[1].counts
    assert disclosed_counts([t.value for t in order[:2]], 3) == {}


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 80), size=st.integers(3, 20), k=st.integers(2, 6))
def test_no_team_is_smaller_than_the_threshold(n: int, size: int, k: int) -> None:
    if size > n or size < k or n < k:
        return
    teams = build_teams([(str(i), TYPES[i % 4]) for i in range(n)], size, min_size=k)
    assert min(len(team) for team in teams) >= k
    assert sum(len(team) for team in teams) == n


def test_a_team_below_the_threshold_is_merged_not_formed() -> None:
    members = [(str(i), TYPES[i % 4]) for i in range(5)]
    assert sorted(len(t) for t in build_teams(members, 3)) == [2, 3]
    assert [len(t) for t in build_teams(members, 3, min_size=3)] == [5]
    with pytest.raises(ValueError, match="at least 3"):
        build_teams(members, 2, min_size=3)

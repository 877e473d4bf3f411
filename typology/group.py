"""Group analysis (composition, balance, mean profile, breakdowns) and the D-Team builder.

Balance is the normalised Shannon entropy of the type shares: H = -sum(p * ln p) / ln 4, from 0
(everyone the same type) to 1 (all four types equally often). A type is *under-represented* when
present but with a share below half of an equal share (below 12.5 %). Privacy: with fewer than
`k_threshold` finished participants nothing about the composition is exposed, and a breakdown
cell (one value of a context item) is shown only if at least `k_threshold` members have it.

Disclosure in steps of k: the composition is computed from the first floor(n/k)*k finishers
only (`disclosed`), so it changes only when k more people have finished. Whoever knows who just
finished cannot subtract two snapshots (live message, repeated /summary) to learn that
person's type: a snapshot changes only by a block of k results at once.

The goal profile names the dimensions with the highest and lowest mean priority, and the
dimension on which the types' mean priorities lie furthest apart (`divisive_goal`), counting
only types with at least k members, so that no one person's answers stand for a type.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pandas as pd

from typology.types import TYPES, TypeId

UNDER_REPRESENTED_FACTOR = 0.5
T = TypeVar("T")
GOALS_SHOWN = 2  # highest and lowest goals named in the D-Team post


@dataclass(frozen=True)
class Member:
    """One finished participant as seen by the group analysis."""

    id: str
    main_type: TypeId
    profile: Mapping[str, float] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    mixed: bool = False


@dataclass(frozen=True)
class GroupAnalysis:
    """Composition of a group; composition fields are empty while below the privacy threshold.

    `n` is everyone who finished; the composition fields describe the first `counted` of them
    (floor(n/k)*k in finish order, see `disclosed`).
    """

    n: int
    k_threshold: int
    below_threshold: bool
    needed: int
    counts: dict[TypeId, int]
    shares: dict[TypeId, int]
    balance: float | None
    missing: list[TypeId]
    under_represented: list[TypeId]
    mean_profile: dict[str, float]
    breakdown: dict[str, dict[str, dict[TypeId, int]]]
    mixed: int = 0  # members whose result was a mixed type
    top_goals: list[str] = field(default_factory=list)  # dimensions, highest mean first
    bottom_goals: list[str] = field(default_factory=list)  # dimensions, lowest mean first
    divisive_goal: str | None = None  # where the types' means differ most (see module doc)

    @property
    def counted(self) -> int:
        """How many finishers the composition counts (0 below the threshold)."""
        return sum(self.counts.values())


def goal_extremes(
    mean_profile: Mapping[str, float], k: int = GOALS_SHOWN
) -> tuple[list[str], list[str]]:
    """Returns the k highest and the k lowest goals; a goal is never both, so k is capped."""
    k = min(k, len(mean_profile) // 2)
    ranked = sorted(mean_profile, key=lambda d: (-mean_profile[d], d))
    if k < 1:
        return [], []
    return ranked[:k], ranked[::-1][:k]


def divisive_goal(members: Sequence[Member], k: int) -> str | None:
    """Returns the dimension whose mean differs most between types with at least k members.

    None when fewer than two types have k members (a difference needs two groups, and a
    smaller group's mean would stand for too few people). Ties go to the first dimension.
    """
    by_type: dict[TypeId, list[Mapping[str, float]]] = {}
    for m in members:
        by_type.setdefault(m.main_type, []).append(m.profile)
    groups = [profiles for profiles in by_type.values() if len(profiles) >= max(k, 1)]
    if len(groups) < 2:
        return None
    means = pd.DataFrame([pd.DataFrame.from_records(g).mean(axis=0) for g in groups])
    spread = (means.max(axis=0) - means.min(axis=0)).dropna()
    if spread.empty:
        return None
    spread = spread.sort_index()
    return str(spread.idxmax())


def percent_shares(counts: Sequence[float]) -> list[int]:
    """Whole percents of counts by the largest-remainder method: they add up to exactly 100.

    The one rounding rule for every share the bot shows (post, chart, live message, presenter).
    Each share is its exact percent rounded down, and the points still missing go one each to
    the largest remainders; ties go to the larger count, then to the earlier position. All
    zero (or empty) gives zeros.
    """
    if any(c < 0 for c in counts):
        raise ValueError("counts must not be negative")
    total = sum(counts)
    if total == 0:
        return [0] * len(counts)
    exact = [100 * c / total for c in counts]
    floors = [math.floor(e) for e in exact]
    missing = 100 - sum(floors)
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - floors[i]), -counts[i], i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def disclosed(finishers: Sequence[T], k: int) -> list[T]:
    """Returns the finishers whose types may be shown: the first floor(n/k)*k in finish order.

    `finishers` must be ordered by finish time (each participant once, at their latest
    result). Below k it is empty. Everything that shows per-type numbers to a group (live
    message, D-Team post, presenter page) counts only these, so its numbers move in steps of k.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    return list(finishers[: len(finishers) // k * k])


def disclosed_counts(types_in_finish_order: Sequence[str], k: int) -> dict[TypeId, int]:
    """Returns the per-type counts that may be shown (all four types), or {} below k."""
    shown = Counter(TypeId(t) for t in disclosed(types_in_finish_order, k))
    return {t: shown[t] for t in TYPES} if shown else {}


def balance(counts: Sequence[int]) -> float:
    """Normalised Shannon entropy of counts, 0 (one type) .. 1 (all types equal)."""
    total = sum(counts)
    if total == 0 or len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts if c)
    return round(h / math.log(len(counts)), 4)


def _breakdown(
    df: pd.DataFrame, keys: Sequence[str], k: int
) -> dict[str, dict[str, dict[TypeId, int]]]:
    out: dict[str, dict[str, dict[TypeId, int]]] = {}
    for key in keys:
        if key not in df.columns:
            continue
        sub = df.loc[df[key].notna() & (df[key] != ""), [key, "type"]]
        if sub.empty:
            continue
        table = pd.crosstab(sub[key], sub["type"]).reindex(columns=list(TYPES), fill_value=0)
        table = table[table.sum(axis=1) >= k]  # small cells could identify individuals
        out[key] = {str(value): {t: int(row[t]) for t in TYPES} for value, row in table.iterrows()}
    return out


def analyse(
    members: Sequence[Member],
    *,
    k_threshold: int = 3,
    context_keys: Sequence[str] = ("role", "size"),
) -> GroupAnalysis:
    """Analyse a group of finished participants, given in finish order (see `disclosed`)."""
    if k_threshold < 1:
        raise ValueError("k_threshold must be at least 1")
    total = len(members)
    if total < k_threshold:
        return GroupAnalysis(
            total, k_threshold, True, k_threshold - total, {}, {}, None, [], [], {}, {}
        )
    members = disclosed(members, k_threshold)
    n = len(members)
    types = pd.Series(pd.Categorical([m.main_type.value for m in members], categories=TYPES))
    counts_s = types.value_counts(sort=False).reindex(list(TYPES), fill_value=0)
    counts = {t: int(counts_s[t]) for t in TYPES}
    shares = dict(zip(TYPES, percent_shares([counts[t] for t in TYPES]), strict=True))
    equal = 1.0 / len(TYPES)
    under = [t for t in TYPES if 0 < counts[t] / n < UNDER_REPRESENTED_FACTOR * equal]
    profiles = pd.DataFrame.from_records([dict(m.profile) for m in members])
    mean_profile = {
        str(d): round(float(v), 4)
        for d, v in profiles.mean(axis=0, skipna=True).sort_index().items()
        if not math.isnan(v)
    }
    ctx = pd.DataFrame.from_records(
        [{k: m.context.get(k) for k in context_keys} for m in members], columns=list(context_keys)
    )
    ctx["type"] = types.astype(str)
    top, bottom = goal_extremes(mean_profile)
    return GroupAnalysis(
        n=total,
        k_threshold=k_threshold,
        below_threshold=False,
        needed=0,
        counts=counts,
        shares=shares,
        balance=balance(list(counts.values())),
        missing=[t for t in TYPES if counts[t] == 0],
        under_represented=under,
        mean_profile=mean_profile,
        breakdown=_breakdown(ctx, context_keys, k_threshold),
        mixed=sum(1 for m in members if m.mixed),
        top_goals=top,
        bottom_goals=bottom,
        divisive_goal=divisive_goal(members, k_threshold),
    )


def team_count(n: int, size: int, min_size: int = 2) -> int:
    """Returns how many teams of about `size` n people form, none smaller than `min_size`."""
    return max(1, min(math.floor(n / size + 0.5), n // min_size))


def build_teams(
    members: Sequence[tuple[str, TypeId]], size: int, seed: int = 0, *, min_size: int = 2
) -> list[list[str]]:
    """Split participants into teams of about `size` covering as many types as possible.

    The number of teams is the one closest to n / size, but fewer where a team would have
    fewer than `min_size` members (the privacy threshold: a team's type mix is posted);
    sizes differ by at most one. Members are grouped by type (largest type first, then
    canonical order), shuffled within their type with `seed`, and dealt round-robin: a type
    with c members thus lands in min(c, m) of the m teams, the most any split can achieve.
    """
    n = len(members)
    if size < max(2, min_size):
        raise ValueError(f"team size must be at least {max(2, min_size)}, got {size}")
    if size > n:
        raise ValueError(f"team size {size} is larger than the group ({n} participants)")
    ids = [mid for mid, _ in members]
    if len(set(ids)) != n:
        raise ValueError("participant ids must be unique")
    n_teams = team_count(n, size, max(2, min_size))
    rng = random.Random(seed)  # noqa: S311 - team shuffling, not security
    by_type: dict[TypeId, list[str]] = {t: [] for t in TYPES}
    for mid, t in members:
        by_type[TypeId(t)].append(mid)
    order = sorted(TYPES, key=lambda t: (-len(by_type[t]), TYPES.index(t)))
    dealt: list[str] = []
    for t in order:
        group = by_type[t][:]
        rng.shuffle(group)
        dealt.extend(group)
    teams: list[list[str]] = [[] for _ in range(n_teams)]
    for i, mid in enumerate(dealt):
        teams[i % n_teams].append(mid)
    return teams

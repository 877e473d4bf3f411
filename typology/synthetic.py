"""Synthetic responses for tests, benchmarks, evaluation and the shipped samples; NOT real data.

`generate_matrix` (the shipped samples): each simulated respondent gets a type (equal shares by
construction — no real distribution is known), a personal agreement level, a boost on that
type's goals, item noise, and picks that type's goal focus in the forced choice with probability
0.65. Regenerate the samples with `python -m typology.synthetic` (seed 2020, 400 rows each).

`prototype_matrix` (`dteam typology evaluate`): respondents drawn from each type's prototype —
that type's goals rated 5, all others 3, as in the prior model — with the noise of a `Noise`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from typology.questionnaire import CURRENT_VERSION, DATA, Questionnaire, load_questionnaire
from typology.types import TYPES

SAMPLE_SEED = 2020
SAMPLE_ROWS = 400
SAMPLE_PATHS: dict[str, Path] = {
    "1": DATA / "sample_responses.csv",
    "2": DATA / "sample_responses_v2.csv",
}


@dataclass(frozen=True)
class Noise:
    """How far a synthetic respondent strays from their type's prototype (in scale points)."""

    item_sd: float = 1.0  # independent normal noise on every rating
    level_sd: float = 0.5  # a personal shift of all ratings (some rate everything higher)
    choice_own: float = 0.65  # probability of choosing the own type's goal focus
    ceiling: tuple[str, ...] = ()  # items every type rates "very important" (duties)

    def describe(self) -> str:
        """Return the noise in words, for reports."""
        text = (
            f"item noise sd {self.item_sd:g}, personal level shift sd {self.level_sd:g}, "
            f"own goal focus chosen with probability {self.choice_own:g}"
        )
        if self.ceiling:
            text += f"; {', '.join(self.ceiling)} rated 5 in every prototype"
        return text


def _answer_rows(
    n: int,
    q: Questionnaire,
    seed: int,
    choice_own: float,
    ratings: Callable[[np.random.Generator, npt.NDArray[np.bool_]], npt.NDArray[np.float64]],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Draws n people's types, their ratings (by `ratings`) and forced choice, in one order.

    `ratings` gets the generator and, per person and rating item, whether the item is of the
    person's own type; it returns unrounded ratings. The draws stay in the same order (types,
    ratings, choice), so a seed gives the same rows as before the two generators shared this.
    """
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(TYPES), size=n)
    own = np.array([[it.type == t for it in q.rating_items] for t in TYPES])[truth]
    rated = np.clip(np.rint(ratings(rng, own)), 1, 5).astype(np.int64)
    other = (truth + rng.integers(1, len(TYPES), size=n)) % len(TYPES)
    choice = np.where(rng.random(n) < choice_own, truth, other)
    return np.column_stack([rated, choice]).astype(np.int64), truth.astype(np.intp)


def prototype_matrix(
    n: int, q: Questionnaire, noise: Noise, *, seed: int = SAMPLE_SEED
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Return raw answer rows drawn from the type prototypes, and the generating type indices."""
    ceiling = [i for i, it in enumerate(q.rating_items) if it.id in noise.ceiling]

    def ratings(rng: np.random.Generator, own: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        proto = np.where(own, 5.0, 3.0)
        proto[:, ceiling] = 5.0
        level = rng.normal(0.0, noise.level_sd, size=(len(own), 1))
        jitter = rng.normal(0.0, noise.item_sd, size=own.shape)
        return proto + level + jitter

    return _answer_rows(n, q, seed, noise.choice_own, ratings)


def generate_matrix(
    n: int, q: Questionnaire, *, seed: int = SAMPLE_SEED
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Return raw answer rows (ratings, choice index) and the generating type indices."""

    def ratings(rng: np.random.Generator, own: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        level = rng.normal(3.3, 0.5, size=(len(own), 1))
        noise = rng.normal(0.0, 0.75, size=own.shape)
        return level + 1.1 * own + noise

    return _answer_rows(n, q, seed, 0.65, ratings)


def generate(
    n: int = SAMPLE_ROWS, *, seed: int = SAMPLE_SEED, version: str = CURRENT_VERSION
) -> pd.DataFrame:
    """Return a synthetic responses table in the CSV format (item ids as columns)."""
    q = load_questionnaire(version=version)
    matrix, _ = generate_matrix(n, q, seed=seed)
    rng = np.random.default_rng(seed + 1)
    df = pd.DataFrame(matrix[:, :-1].astype(str), columns=[it.id for it in q.rating_items])
    df[q.choice_item.id] = [TYPES[i].value for i in matrix[:, -1]]
    for item in q.context_items:
        ids = [o.id for o in item.options]
        df[item.id] = [ids[i] for i in rng.integers(0, len(ids), size=n)]
    return df


def main() -> None:
    """Write the sample of every version (typology/data/sample_responses*.csv)."""
    for version, out in SAMPLE_PATHS.items():
        generate(version=version).to_csv(out, index=False)


if __name__ == "__main__":
    main()

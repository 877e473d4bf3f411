"""Synthetic responses for tests, benchmarks and the shipped sample; NOT real survey data.

Each simulated respondent gets a type (equal shares by construction — no real distribution is
known), a personal agreement level, a boost on that type's three goals, item noise, and picks
that type's goal focus in the forced choice with probability 0.65. Regenerate the sample with
`python -m typology.synthetic` (seed 2020, 400 rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from typology.questionnaire import Questionnaire, load_questionnaire
from typology.types import TYPES

SAMPLE_SEED = 2020
SAMPLE_ROWS = 400


def generate_matrix(
    n: int, q: Questionnaire, *, seed: int = SAMPLE_SEED
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Return raw answer rows (ratings, choice index) and the generating type indices."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(TYPES), size=n)
    own = np.array([[it.type == t for it in q.rating_items] for t in TYPES])[truth]
    level = rng.normal(3.3, 0.5, size=(n, 1))
    noise = rng.normal(0.0, 0.75, size=own.shape)
    ratings = np.clip(np.rint(level + 1.1 * own + noise), 1, 5).astype(np.int64)
    other = (truth + rng.integers(1, len(TYPES), size=n)) % len(TYPES)
    choice = np.where(rng.random(n) < 0.65, truth, other)
    return np.column_stack([ratings, choice]).astype(np.int64), truth.astype(np.intp)


def generate(n: int = SAMPLE_ROWS, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Return a synthetic responses table in the CSV format (item ids as columns)."""
    q = load_questionnaire()
    matrix, _ = generate_matrix(n, q, seed=seed)
    rng = np.random.default_rng(seed + 1)
    df = pd.DataFrame(matrix[:, :-1].astype(str), columns=[it.id for it in q.rating_items])
    df[q.choice_item.id] = [TYPES[i].value for i in matrix[:, -1]]
    for item in q.context_items:
        ids = [o.id for o in item.options]
        df[item.id] = [ids[i] for i in rng.integers(0, len(ids), size=n)]
    return df


def main() -> None:
    """Write typology/data/sample_responses.csv."""
    out = Path(__file__).parent / "data" / "sample_responses.csv"
    generate().to_csv(out, index=False)


if __name__ == "__main__":
    main()

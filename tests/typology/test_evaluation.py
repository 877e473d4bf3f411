"""`dteam typology evaluate`: both versions side by side on synthetic prototype respondents."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from typology.calibration import evaluate_command
from typology.evaluation import (
    DUTY_ITEMS,
    NOISE,
    TARGET,
    cronbach_alpha,
    evaluate_synthetic,
    synthetic_report,
)
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model
from typology.synthetic import Noise, prototype_matrix
from typology.types import TYPES


def test_cronbach_alpha_of_known_matrices() -> None:
    assert cronbach_alpha([[1, 1], [2, 2], [3, 3]]) == pytest.approx(1.0)
    # Two items that move against each other: negative consistency.
    assert cronbach_alpha([[1, 3], [2, 1], [3, 2]]) == pytest.approx(-2.0)
    # Textbook case: k=3, item variances 1, 1, 1, total variance 6 -> 3/2 * (1 - 3/6) = 0.75.
    x = np.array([[1, 1, 2], [2, 3, 1], [3, 2, 3]])
    expected = 1.5 * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    assert cronbach_alpha(x) == pytest.approx(expected)
    assert math.isnan(cronbach_alpha([[2, 2], [2, 2]]))


def test_prototype_respondents_follow_the_stated_noise() -> None:
    q = load_questionnaire()
    exact, truth = prototype_matrix(400, q, Noise(item_sd=0, level_sd=0, choice_own=1.0))
    for row, t in zip(exact, truth, strict=True):
        assert list(row[:-1]) == [5 if it.type is TYPES[t] else 3 for it in q.rating_items]
        assert row[-1] == t
    noisy, _ = prototype_matrix(400, q, NOISE)
    assert noisy[:, :-1].min() >= 1
    assert noisy[:, :-1].max() <= 5
    assert not np.array_equal(noisy[:, :-1], exact[:, :-1])


def test_version_2_recovers_at_least_90_percent_at_the_stated_noise() -> None:
    ev = evaluate_synthetic(load_questionnaire(), load_model(), NOISE, n=2000)
    assert ev.recovery >= TARGET
    assert 0 < ev.mixed_share < 0.5
    assert all(0.5 < a < 1 for a in ev.alpha.values())


def test_duty_items_at_the_ceiling_cost_version_1_its_bedaechtige_consistency() -> None:
    q1, m1 = load_questionnaire(version="1"), load_model(questionnaire_version="1")
    plain = evaluate_synthetic(q1, m1, NOISE, n=2000)
    duty = evaluate_synthetic(q1, m1, Noise(ceiling=DUTY_ITEMS["1"]), n=2000)
    assert duty.recovery < plain.recovery
    assert duty.alpha[TYPES[0]] < plain.alpha[TYPES[0]] - 0.2


def test_report_prints_both_versions_side_by_side_on_a_small_sample() -> None:
    text = synthetic_report(n=200, seed=1)
    assert "SYNTHETIC" in text
    assert "not real data" in text
    header = next(line for line in text.splitlines() if "v2 (prior-2)" in line)
    assert header.index("v2 (prior-2)") < header.index("v1 (prior-1)")
    recovered = next(line for line in text.splitlines() if line.startswith("recovered (target"))
    assert len(re.findall(r"\d+\.\d%", recovered)) == 2
    for t in TYPES:
        assert f"alpha {t.value} (synthetic)" in text
    assert "flagged mixed" in text
    assert "g01, g09" in text  # the duty-item scenario of version 1, stated as an assumption


def test_evaluate_without_a_file_prints_the_synthetic_comparison_and_the_refit() -> None:
    text = evaluate_command()
    assert "v2 (prior-2)" in text
    assert "v1 (prior-1)" in text
    assert "silhouette" in text
    assert "synthetic sample" in text

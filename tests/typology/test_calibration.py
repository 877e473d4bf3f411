"""Calibration: CSV validation, fit round-trip on the synthetic sample, commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from typology.calibration import (
    CalibrationError,
    evaluate_command,
    fit,
    fit_command,
    match_clusters,
    read_responses,
)
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model
from typology.synthetic import SAMPLE_PATHS, SAMPLE_ROWS, generate, generate_matrix
from typology.types import TYPES

Q = load_questionnaire(version="1")  # the CSV cases below are version 1's columns
SAMPLE_PATH = SAMPLE_PATHS["1"]


def test_shipped_sample_is_the_seeded_synthetic_data() -> None:
    matrix = read_responses(SAMPLE_PATH, Q)
    assert matrix.shape == (SAMPLE_ROWS, 13)
    assert SAMPLE_PATH.read_text() == generate(version="1").to_csv(index=False)


def test_fit_round_trip_recovers_the_generating_types() -> None:
    matrix, truth = generate_matrix(SAMPLE_ROWS, Q)
    base = load_model(questionnaire_version="1")
    model, ev = fit(matrix, Q, base, seed=0)
    refit = model.classify_batch(matrix).main
    assert np.mean(refit == truth) > 0.8
    assert np.mean(base.classify_batch(matrix).main == truth) > 0.8
    assert ev.agreement > 0.7
    assert ev.stability_min > 0.9
    assert sum(ev.fitted_sizes.values()) == SAMPLE_ROWS
    assert min(ev.fitted_sizes.values()) > SAMPLE_ROWS // 8
    assert model.provenance["method"] == "kmeans"
    assert model.rating_items == base.rating_items


def test_cluster_matching_is_a_permutation() -> None:
    centroids = load_model(questionnaire_version="1").centroids[[2, 0, 3, 1]]
    assert match_clusters(centroids, Q) == [TYPES[2], TYPES[0], TYPES[3], TYPES[1]]


def test_fit_command_writes_a_loadable_model_with_provenance(tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    text = fit_command(SAMPLE_PATH, out)
    assert "wrote model fit-" in text
    assert "silhouette" in text
    assert "stability" in text
    data = json.loads(out.read_text())
    assert data["provenance"]["source"] == "sample_responses.csv"
    assert len(data["provenance"]["sha256"]) == 64
    model = load_model(out)
    assert model.version == data["version"]


@pytest.mark.parametrize("version", ["1", "2"])
def test_evaluate_and_fit_pick_the_version_of_the_csv(tmp_path: Path, version: str) -> None:
    text = evaluate_command(SAMPLE_PATHS[version])
    assert text.startswith(f"questionnaire version {version}\n")
    assert f"current model: prior-{version}" in text
    for t in TYPES:
        assert t.value in text
    out = tmp_path / "model.json"
    assert f"(questionnaire version {version})" in fit_command(SAMPLE_PATHS[version], out)
    assert load_model(out).questionnaire_version == version


def test_shipped_samples_are_the_seeded_synthetic_data_of_their_version() -> None:
    for version, path in SAMPLE_PATHS.items():
        assert path.read_text() == generate(version=version).to_csv(index=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "responses.csv"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "g01,g02,g03,g04,g05,g06,g07,g08,g09,g10,g11,g12,top,role,size\n"
GOOD = "4,5,2,2,4,2,3,2,4,2,2,4,bedaechtige,andere,kreis\n"


@pytest.mark.parametrize(
    ("text", "row", "column", "message"),
    [
        (HEADER.replace("g07,", "") + GOOD, 1, "g07", "missing column"),
        (HEADER.replace(",top", "") + GOOD, 1, "top", "missing column"),
        (HEADER + GOOD + GOOD.replace("4,5,2", "4,6,2", 1), 3, "g02", "outside the scale"),
        (HEADER + GOOD * 3 + GOOD.replace("4,5", "4,", 1), 5, "g02", "outside the scale"),
        (HEADER + GOOD.replace("bedaechtige", "alle"), 2, "top", "not an option"),
        (HEADER + GOOD.replace(",kreis", ",riesig"), 2, "size", "not an option"),
    ],
)
def test_malformed_csv_names_row_and_column(
    tmp_path: Path, text: str, row: int, column: str, message: str
) -> None:
    with pytest.raises(CalibrationError, match=message) as info:
        read_responses(_write(tmp_path, text), Q)
    assert (info.value.row, info.value.column) == (row, column)
    assert f"line {row}" in str(info.value)
    assert repr(column) in str(info.value)


def test_context_columns_are_optional_and_may_be_empty(tmp_path: Path) -> None:
    text = HEADER.replace(",role,size", "") + GOOD.replace(",andere,kreis", "")
    assert read_responses(_write(tmp_path, text), Q).shape == (1, 13)
    assert read_responses(_write(tmp_path, HEADER + GOOD.replace("andere", "")), Q).shape == (
        1,
        13,
    )


def test_empty_and_too_small_data(tmp_path: Path) -> None:
    with pytest.raises(CalibrationError, match="no responses"):
        read_responses(_write(tmp_path, HEADER), Q)
    small = read_responses(_write(tmp_path, HEADER + GOOD * 5), Q)
    with pytest.raises(CalibrationError, match="at least"):
        fit(small, Q, load_model(questionnaire_version="1"))

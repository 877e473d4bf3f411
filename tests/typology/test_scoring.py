"""Scoring: golden cases, typed errors, properties, model file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from typology.questionnaire import Questionnaire, load_questionnaire
from typology.scoring import (
    AnswerError,
    Classifier,
    IncompleteAnswers,
    ModelError,
    UnknownItem,
    UnknownOption,
    VersionMismatch,
    encode_answers,
    features,
    load_model,
)
from typology.types import TYPES, TypeId

Q = load_questionnaire(version="1")  # golden cases of version 1 (its runs are still scored)
MODEL = load_model(questionnaire_version="1")


def answers(high: set[TypeId], top: TypeId, hi: str = "5", lo: str = "2") -> dict[str, str]:
    """Rate the goals of the `high` types `hi`, all others `lo`, and choose `top`."""
    out = {it.id: hi if it.type in high else lo for it in Q.rating_items}
    out["top"] = top.value
    return out


def test_clear_optimierer() -> None:
    res = MODEL.classify(Q, answers({TypeId.OPTIMIERER}, TypeId.OPTIMIERER))
    assert res.main_type is TypeId.OPTIMIERER
    assert not res.mixed
    assert res.affinities[TypeId.OPTIMIERER] > 80
    assert res.deciding == ["top", "g02", "g06"]
    assert res.profile["d"] > 0
    assert res.profile["a"] < 0
    assert res.model_version == "prior-1"
    assert res.questionnaire_version == "1"


def test_clear_community_manager_with_context_answers() -> None:
    ans = answers({TypeId.COMMUNITY}, TypeId.COMMUNITY, lo="3") | {"role": "it", "size": "u10"}
    res = MODEL.classify(Q, ans)
    assert res.main_type is TypeId.COMMUNITY
    assert not res.mixed
    assert set(res.deciding) <= {"top", "g04", "g08", "g12"}
    assert 2 <= len(res.deciding) <= 3


def test_context_answers_do_not_change_the_result() -> None:
    base = answers({TypeId.SERVICEORIENTIERTE}, TypeId.BEDAECHTIGE, lo="3")
    with_ctx = base | {"role": "politik", "size": "kreis"}
    assert MODEL.classify(Q, base) == MODEL.classify(Q, with_ctx)


@pytest.mark.parametrize("top", list(TypeId))
def test_all_fives_is_decided_only_by_the_forced_choice_and_flagged_mixed(top: TypeId) -> None:
    res = MODEL.classify(Q, answers(set(), top, lo="5"))
    assert res.main_type is top
    assert res.mixed
    assert res.deciding == ["top"]
    assert all(v == 0 for v in res.profile.values())
    others = [v for t, v in res.affinities.items() if t is not top]
    assert max(others) - min(others) <= 0.1


def test_tie_is_mixed_and_broken_in_canonical_order() -> None:
    ans = answers({TypeId.OPTIMIERER, TypeId.COMMUNITY}, TypeId.BEDAECHTIGE, lo="1")
    res = MODEL.classify(Q, ans)
    assert res.mixed
    assert (res.main_type, res.second_type) == (TypeId.OPTIMIERER, TypeId.COMMUNITY)
    assert abs(res.affinities[TypeId.OPTIMIERER] - res.affinities[TypeId.COMMUNITY]) <= 0.1


def test_forced_choice_breaks_a_rating_tie() -> None:
    ans = answers({TypeId.OPTIMIERER, TypeId.COMMUNITY}, TypeId.COMMUNITY, lo="1")
    res = MODEL.classify(Q, ans)
    assert res.main_type is TypeId.COMMUNITY
    assert "top" in res.deciding


def test_deterministic() -> None:
    ans = answers({TypeId.BEDAECHTIGE}, TypeId.COMMUNITY, lo="3")
    assert MODEL.classify(Q, ans) == MODEL.classify(Q, dict(reversed(ans.items())))


def test_incomplete_answers() -> None:
    ans = answers({TypeId.OPTIMIERER}, TypeId.OPTIMIERER)
    del ans["g07"], ans["top"]
    with pytest.raises(IncompleteAnswers) as info:
        MODEL.classify(Q, ans)
    assert info.value.missing == ("g07", "top")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"g13": "3"}, UnknownItem),
        ({"g01": "6"}, UnknownOption),
        ({"g01": "five"}, UnknownOption),
        ({"top": "g"}, UnknownOption),
        ({"size": "huge"}, UnknownOption),
    ],
)
def test_unknown_items_and_options(change: dict[str, str], error: type[AnswerError]) -> None:
    with pytest.raises(error):
        MODEL.classify(Q, answers(set(), TypeId.OPTIMIERER, lo="3") | change)


def test_version_mismatch() -> None:
    ans = answers(set(), TypeId.OPTIMIERER, lo="3")
    assert MODEL.classify(Q, ans, questionnaire_version="1").main_type is TypeId.OPTIMIERER
    with pytest.raises(VersionMismatch) as info:
        MODEL.classify(Q, ans, questionnaire_version="0")
    assert (info.value.expected, info.value.got) == ("1", "0")
    assert isinstance(info.value, AnswerError)


answer_sets = st.fixed_dictionaries(
    {it.id: st.sampled_from([o.id for o in it.options]) for it in Q.scored_items},
    optional={it.id: st.sampled_from([o.id for o in it.options]) for it in Q.context_items},
)


@settings(max_examples=300, deadline=None)
@given(answer_sets)
def test_any_complete_answer_set_yields_one_type_and_100_percent(ans: dict[str, str]) -> None:
    res = MODEL.classify(Q, ans)
    assert isinstance(res.main_type, TypeId)
    assert res.second_type is not res.main_type
    assert list(res.affinities) == list(TYPES)
    assert all(0 <= v <= 100 for v in res.affinities.values())
    assert sum(round(v * 10) for v in res.affinities.values()) == 1000
    assert round(sum(res.affinities.values()), 1) == 100.0
    assert res.affinities[res.main_type] == max(res.affinities.values())
    assert 1 <= len(res.deciding) <= 3
    assert set(res.deciding) <= {it.id for it in Q.scored_items}
    assert MODEL.classify(Q, ans) == res


def _random_matrix(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.integers(1, 6, size=(n, 12)), rng.integers(0, 4, size=n)])


def test_batch_matches_single_classification() -> None:
    matrix = _random_matrix(200)
    batch = MODEL.classify_batch(matrix)
    for row, main, mixed, aff in zip(
        matrix, batch.main, batch.mixed, batch.affinities, strict=True
    ):
        ans = {it.id: str(v) for it, v in zip(Q.rating_items, row[:-1], strict=True)}
        ans["top"] = TYPES[row[-1]].value
        res = MODEL.classify(Q, ans)
        assert (res.main_type, res.mixed) == (TYPES[main], bool(mixed))
        assert list(res.affinities.values()) == list(aff)


def test_main_type_is_what_sklearn_nearest_centroid_predicts_away_from_ties() -> None:
    matrix = _random_matrix(2000, seed=7)
    batch = MODEL.classify_batch(matrix)
    x = features(matrix, MODEL.choice_weight)
    d = ((x[:, None, :] - MODEL.centroids[None]) ** 2).sum(axis=-1)
    d.sort(axis=1)
    clear = d[:, 1] - d[:, 0] > 1e-6
    assert clear.mean() > 0.75  # integer ratings make exact ties fairly common
    assert (MODEL.estimator.predict(x)[clear] == batch.main[clear]).all()


def test_encode_answers_row() -> None:
    row = encode_answers(Q, answers({TypeId.OPTIMIERER}, TypeId.COMMUNITY))
    assert row.tolist() == [2, 5, 2, 2, 2, 5, 2, 2, 2, 5, 2, 2, 3]


def test_batch_rejects_values_outside_the_scale() -> None:
    bad = _random_matrix(3)
    bad[1, 4] = 6
    with pytest.raises(ValueError, match=r"1\.\.5"):
        MODEL.classify_batch(bad)


def test_model_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    MODEL.save(path)
    data = json.loads(path.read_text())
    assert data["version"] == "prior-1"
    assert data["provenance"]["method"] == "prior"
    again = load_model(path)
    assert np.array_equal(again.centroids, MODEL.centroids)
    assert again.classify(Q, answers(set(), TypeId.COMMUNITY, lo="4")) == MODEL.classify(
        Q, answers(set(), TypeId.COMMUNITY, lo="4")
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(format=99), "format"),
        (lambda d: d["centroids"].pop("community"), "malformed"),
        (lambda d: d["centroids"].update(community=[0.0] * 3), "malformed"),
        (lambda d: d.update(temperature=0), "temperature"),
    ],
)
def test_broken_model_file(tmp_path: Path, edit: object, message: str) -> None:
    data = MODEL.to_dict()
    edit(data)  # type: ignore[operator]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match=message):
        load_model(path)


def test_model_for_another_questionnaire_is_refused() -> None:
    other = _for_questionnaire(MODEL, "2")
    with pytest.raises(ModelError, match="questionnaire"):
        other.classify(Q, answers(set(), TypeId.COMMUNITY, lo="4"))


def _for_questionnaire(model: Classifier, questionnaire_version: str) -> Classifier:
    """The same model, claiming to be fitted for another questionnaire version."""
    d = model.to_dict()
    return Classifier(
        version=d["version"],
        questionnaire_version=questionnaire_version,
        rating_items=d["rating_items"],
        centroids={TypeId(k): v for k, v in d["centroids"].items()},
        choice_weight=d["choice_weight"],
        temperature=d["temperature"],
        mixed_margin=d["mixed_margin"],
        provenance=d["provenance"],
    )


def test_questionnaire_fixture_type() -> None:
    assert isinstance(Q, Questionnaire)

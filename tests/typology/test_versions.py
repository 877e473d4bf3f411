"""Questionnaire version 2 next to version 1: content, stems, texts, per-version models."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest

from typology.calibration import prior_model
from typology.questionnaire import (
    CURRENT_VERSION,
    VERSION_PATHS,
    Questionnaire,
    load_questionnaire,
    load_questionnaires,
)
from typology.scoring import load_model, load_models
from typology.types import TYPES, TypeId

ALL = load_questionnaires()
V1, V2 = ALL["1"], ALL["2"]
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def test_new_runs_use_version_2_and_version_1_stays_loadable() -> None:
    assert CURRENT_VERSION == "2"
    assert load_questionnaire().version == "2"
    assert set(ALL) == set(VERSION_PATHS) == {"1", "2"}
    assert {v: q.version for v, q in ALL.items()} == {"1": "1", "2": "2"}


def test_version_2_is_short_balanced_and_interleaved() -> None:
    assert [i.kind for i in V2.items] == ["rating"] * 12 + ["choice", "context", "context"]
    assert Counter(i.type for i in V2.rating_items) == dict.fromkeys(TYPES, 3)
    types = [i.type for i in V2.rating_items]
    assert all(a != b for a, b in itertools.pairwise(types))
    # No answer from one version can be taken for an answer to another item of the other.
    assert not {i.id for i in V1.rating_items} & {i.id for i in V2.rating_items}


def test_version_2_drops_the_duties_and_asks_for_cooperation_and_reuse() -> None:
    dims = {i.dimension for i in V2.rating_items}
    assert not dims & {"a", "c"}  # OZG deadline and IT security: everyone rates them top
    bedaechtige = {i.dimension for i in V2.rating_items if i.type is TypeId.BEDAECHTIGE}
    assert {"l", "m"} <= bedaechtige
    assert "Kommunen" in V2.item("coop").text("de")
    assert "Land" in V2.item("coop").text("de")
    assert "bewährt" in V2.item("reuse").text("de")
    for lang in V2.languages:
        text = " ".join(i.text(lang) for i in V2.rating_items)
        assert "OZG" not in text
        assert "IT-Sicherheit" not in text
        assert "IT security" not in text


@pytest.mark.parametrize("lang", ["de", "en"])
def test_version_2_has_one_idea_per_item(lang: str) -> None:
    conj = {"de": (" und ", " sowie ", " oder "), "en": (" and ", " or ")}[lang]
    for item in V2.rating_items:
        text = item.text(lang)
        head = text.split(" (")[0].split(", z. B.")[0].split(", e.g.")[0]  # examples may list
        body = head.replace("Bürgerinnen und Bürger", "Bürger")  # one group, gender-fair
        body = body.replace("Kommunen und dem Land", "Kommunen")  # one partner set: the goal
        body = body.replace("municipalities and the Land", "municipalities")  # is cooperation
        body = body.replace("clubs, volunteers and initiatives", "groups")
        body = body.replace("Vereine, Ehrenamt und Initiativen", "Gruppen")
        assert not any(c in body for c in conj), f"{item.id}: {text!r}"


def test_version_2_scale_is_symmetric_importance_in_both_languages() -> None:
    labels = {lang: [o.text(lang) for o in V2.item("process").options] for lang in V2.languages}
    assert labels["de"][0] == "gar nicht wichtig"
    assert labels["de"][-1] == "sehr wichtig"
    assert labels["en"][0] == "not at all important"
    assert labels["en"][-1] == "very important"
    assert all(label.endswith("wichtig") for label in labels["de"])  # one question, five degrees
    assert all(label.endswith("important") for label in labels["en"])
    assert not any("teils" in label or "unwichtig" in label for label in labels["de"])


def test_version_2_forced_choice_options_are_alike() -> None:
    for lang in V2.languages:
        lengths = [len(o.text(lang)) for o in V2.choice_item.options]
        assert max(lengths) <= 1.3 * min(lengths), (lang, lengths)
        for o in V2.choice_item.options:
            assert " und " not in o.text(lang)
            assert " and " not in o.text(lang)


def _stem_and_text(q: Questionnaire, item_id: str, lang: str, stem: str) -> str:
    item = q.item(item_id)
    return f"{stem} {item.text(lang)}" if item.kind == "rating" else item.text(lang)


@pytest.mark.parametrize("version", ["1", "2"])
def test_every_item_has_a_question_in_both_languages(version: str) -> None:
    """Rating items are asked under the UI stem; the others carry their own question."""
    q = ALL[version]
    for item in q.items:
        for lang in q.languages:
            if item.kind != "rating":
                assert "?" in item.text(lang), (version, item.id, lang)


@pytest.mark.parametrize("version", ["1", "2"])
def test_texts_of_both_languages_have_the_same_placeholders(version: str) -> None:
    q = ALL[version]
    for item in q.items:
        found = {lang: set(PLACEHOLDER.findall(item.text(lang))) for lang in q.languages}
        assert found["de"] == found["en"], item.id
        for opt in item.options:
            opts = {lang: set(PLACEHOLDER.findall(opt.text(lang))) for lang in q.languages}
            assert opts["de"] == opts["en"], (item.id, opt.id)
            assert opt.text("de").strip()
            assert opt.text("en").strip()
        assert item.short("de").strip()
        assert item.short("en").strip()
    for key in q.meta["de"]:
        assert set(PLACEHOLDER.findall(q.text(key, "de"))) == set(
            PLACEHOLDER.findall(q.text(key, "en"))
        )


def test_every_dimension_is_labelled_in_every_version() -> None:
    # The group's goal profile may mix runs of both versions; the current version labels it.
    for q in ALL.values():
        for lang in q.languages:
            assert set(q.dimension_labels[lang]) >= {
                i.dimension for v in ALL.values() for i in v.rating_items
            }


def test_each_version_has_its_prior_model() -> None:
    models = load_models()
    assert set(models) == set(ALL)
    for version, model in models.items():
        q = ALL[version]
        assert model.questionnaire_version == version
        assert model.rating_items == tuple(i.id for i in q.rating_items)
        assert model.to_dict() == prior_model(q).to_dict()
    assert load_model().questionnaire_version == CURRENT_VERSION
    assert models["1"].version == "prior-1"
    assert models["2"].version == "prior-2"


def test_a_model_for_another_version_is_refused() -> None:
    from typology.errors import ModelError
    from typology.scoring import MODEL_PATHS

    with pytest.raises(ModelError, match="not 2"):
        load_model(MODEL_PATHS["1"], questionnaire_version="2")
    with pytest.raises(ModelError, match="no model"):
        load_model(questionnaire_version="0")


def test_clear_respondents_of_version_2_are_their_type() -> None:
    model = load_model()
    for t in TYPES:
        answers = {i.id: "5" if i.type is t else "2" for i in V2.rating_items}
        res = model.classify(V2, answers | {"top": t.value})
        assert res.main_type is t
        assert not res.mixed
        assert res.questionnaire_version == "2"
        assert all(V2.item(d).type in (t, None) for d in res.deciding)

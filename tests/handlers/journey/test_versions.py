"""Runs keep their questionnaire version: questions, results and exports of version 1 and 2."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.core import render
from handlers.core.context import Services
from handlers.core.i18n import LANGUAGES, Texts
from handlers.websession.export_table import export_frame
from sandbox.formatting import parse_html
from storage.groups import ExportRow
from typology.profiles import load_profiles
from typology.questionnaire import load_questionnaire, load_questionnaires
from typology.scoring import load_model, load_models
from typology.types import TypeId

STEM = {"de": "Wie wichtig ist dieses Ziel derzeit in Ihrer Kommune", "en": "How important"}


@pytest.fixture(scope="module")
def services() -> Services:
    return Services(
        db=None,  # type: ignore[arg-type]  # rendering reads no database
        questionnaire=load_questionnaire(),
        model=load_model(),
        profiles={lang: load_profiles(lang) for lang in LANGUAGES},
        texts=Texts.load(),
        questionnaires=load_questionnaires(),
        models=load_models(),
    )


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_item_of_every_version_is_asked_with_a_stem(
    services: Services, version: str, lang: str
) -> None:
    q = services.questionnaire_for(version)
    assert q.version == version
    for n, item in enumerate(q.items, start=1):
        text, markup = render.question(
            services, run_id=1, item_id=item.id, answers={}, lang=lang, version=version
        )
        plain = parse_html(text)[0]
        assert plain.startswith(("Frage", "Question"))
        assert f" {n} " in plain.splitlines()[0]
        assert f" {len(q.items)}" in plain.splitlines()[0]
        assert item.text(lang) in plain
        # Rating items under the stem; choice and context items are questions themselves.
        assert (STEM[lang] in plain) if item.kind == "rating" else ("?" in item.text(lang))
        labels = [b.text for row in markup.inline_keyboard for b in row]
        assert [o.text(lang) for o in item.options] == labels[: len(item.options)]


def test_a_version_1_result_names_its_own_deciding_items(services: Services) -> None:
    q1 = services.questionnaire_for("1")
    answers = {it.id: "5" if it.type is TypeId.OPTIMIERER else "2" for it in q1.rating_items}
    result = services.model_for("1").classify(q1, answers | {"top": "optimierer"})
    assert result.model_version == "prior-1"
    text = render.result_text(services, result, "de")
    for item_id in result.deciding:
        assert q1.item(item_id).text("de") in parse_html(text)[0]


def test_unknown_versions_fall_back_to_the_current_one(services: Services) -> None:
    assert services.questionnaire_for("0") is services.questionnaire
    assert services.model_for("0") is services.model
    assert services.questionnaire_for(None).version == "2"


def test_export_says_which_version_each_run_answered(services: Services) -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    rows = [
        ExportRow(
            "p",
            1,
            "finished",
            "de",
            now,
            now,
            None,
            "optimierer",
            "community",
            False,
            {},
            {"g01": "4", "top": "optimierer"},
            questionnaire_version="1",
        ),
        ExportRow(
            "q",
            2,
            "finished",
            "de",
            now,
            now,
            None,
            "community",
            "optimierer",
            False,
            {},
            {"process": "2", "top": "community"},
            questionnaire_version="2",
        ),
    ]
    table = export_frame(rows, services.all_item_ids(), key=b"k", workshop_id=1)
    col = table.columns.index("questionnaire_version")
    assert [r[col] for r in table.rows] == ["1", "2"]
    assert table.rows[0][table.columns.index("g01")] == "4"
    assert table.rows[0][table.columns.index("process")] == ""
    assert table.rows[1][table.columns.index("process")] == "2"
    assert table.columns.index("process") < table.columns.index("g01")  # current version first
    assert len(set(table.columns)) == len(table.columns)

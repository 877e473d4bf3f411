"""Loading and validating the questionnaire data."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from typology.questionnaire import DEFAULT_PATH, SKIP, QuestionnaireError, load_questionnaire
from typology.types import TYPES


def test_shipped_version_1_is_balanced_and_complete() -> None:
    q = load_questionnaire(version="1")
    assert q.version == "1"
    assert q.languages == ("de", "en")
    assert [i.kind for i in q.items] == ["rating"] * 12 + ["choice", "context", "context"]
    assert [i.id for i in q.rating_items] == [f"g{n:02d}" for n in range(1, 13)]
    assert Counter(i.type for i in q.rating_items) == dict.fromkeys(TYPES, 3)
    assert q.item("top").kind == "choice"
    assert [i.id for i in q.context_items] == ["role", "size"]
    assert [i.id for i in q.scored_items] == [*(f"g{n:02d}" for n in range(1, 13)), "top"]


def test_version_1_texts_and_option_ids_fit_telegram() -> None:
    q = load_questionnaire(version="1")
    for item in q.items:
        for lang in q.languages:
            assert item.text(lang).strip()
            assert item.short(lang).strip()
            for opt in item.options:
                assert opt.text(lang).strip()
        for opt in item.options:
            assert opt.id.isascii()
            assert len(opt.id.encode()) <= 20
    assert [o.id for o in q.item("g01").options] == ["1", "2", "3", "4", "5"]
    assert q.item("g01").options[4].text("de") == "sehr wichtig"
    assert {o.type for o in q.choice_item.options} == set(TYPES)
    assert q.item("g01").dimension == "a"
    assert q.item("top").dimension is None
    assert q.dimension_label("j", "de") == "Daseinsvorsorge"


def test_unknown_item_raises_key_error() -> None:
    with pytest.raises(KeyError):
        load_questionnaire().item("g99")


def _copy(tmp_path: Path) -> Path:
    for src in DEFAULT_PATH.parent.glob("questionnaire*.toml"):
        shutil.copy(src, tmp_path / src.name)
    return tmp_path / "questionnaire.toml"


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _duplicate(p: Path) -> None:
    _edit(p, 'id = "g02"', 'id = "g01"')


def _missing_in_language(p: Path) -> None:
    _edit(p.with_name("questionnaire.en.toml"), 'id = "g05"', 'id = "g55"')


def _unknown_dimension(p: Path) -> None:
    _edit(p, 'dimension = "j"', 'dimension = "z"')


def _scale_without_labels(p: Path) -> None:
    _edit(p.with_name("questionnaire.en.toml"), '"5" = "very important"\n', "")


def _option_without_label(p: Path) -> None:
    _edit(p.with_name("questionnaire.de.toml"), 'kreis = "Landkreis"\n', "")


def _missing_text(p: Path) -> None:
    _edit(p.with_name("questionnaire.de.toml"), 'text = "Fördermittel', 'txt = "Fördermittel')


def _unknown_kind(p: Path) -> None:
    _edit(p, 'kind = "context"', 'kind = "freetext"')


def _long_option_id(p: Path) -> None:
    _edit(p, '"kreis"', '"landkreis-oder-kreisfreie-stadt"')


CASES: list[tuple[Callable[[Path], None], str, str | None, str]] = [
    (_duplicate, "questionnaire.toml", "g01", "duplicate id"),
    (_missing_in_language, "questionnaire.en.toml", "g05", "missing in this language"),
    (_unknown_dimension, "questionnaire.toml", "g04", "unknown dimension"),
    (_scale_without_labels, "questionnaire.en.toml", "g01", "without labels"),
    (_option_without_label, "questionnaire.de.toml", "size", "without labels"),
    (_missing_text, "questionnaire.de.toml", "g05", "missing text"),
    (_unknown_kind, "questionnaire.toml", "role", "unknown kind"),
    (_long_option_id, "questionnaire.toml", "size", "not short ASCII"),
]


@pytest.mark.parametrize(("breaker", "file", "item", "message"), CASES)
def test_invalid_content_names_file_and_item(
    tmp_path: Path,
    breaker: Callable[[Path], None],
    file: str,
    item: str | None,
    message: str,
) -> None:
    path = _copy(tmp_path)
    breaker(path)
    with pytest.raises(QuestionnaireError, match=message) as info:
        load_questionnaire(path)
    assert Path(info.value.file).name == file
    assert info.value.item == item
    assert file in str(info.value)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    _edit(path.with_name("questionnaire.de.toml"), "[dimensions]", "[dimensions")
    with pytest.raises(QuestionnaireError, match="invalid TOML") as info:
        load_questionnaire(path)
    assert Path(info.value.file).name == "questionnaire.de.toml"


def test_missing_language_file(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    path.with_name("questionnaire.en.toml").unlink()
    with pytest.raises(QuestionnaireError, match="file not found"):
        load_questionnaire(path)


def test_extra_item_in_language_file(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    en = path.with_name("questionnaire.en.toml")
    en.write_text(en.read_text() + '\n[[items]]\nid = "g13"\ntext = "x"\n', encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="not in the structure file") as info:
        load_questionnaire(path)
    assert info.value.item == "g13"


def test_next_item_moves_on_then_asks_what_is_missing() -> None:
    q = load_questionnaire()
    ids = [it.id for it in q.items]
    assert q.next_item(ids[0], {}) == ids[1]
    everything_but_second = {i: "1" for i in ids if i != ids[1]}
    assert q.next_item(ids[-1], everything_but_second) == ids[1]
    assert q.next_item(ids[-1], dict.fromkeys(ids, "1")) is None


def test_accepts_only_options_of_the_item_and_skip_on_context() -> None:
    q = load_questionnaire()
    rating, context = q.rating_items[0], q.context_items[0]
    assert q.accepts(rating.id, rating.options[0].id)
    assert not q.accepts(rating.id, SKIP)
    assert q.accepts(context.id, SKIP)
    assert not q.accepts("no-such-item", "1")
    assert not q.accepts(rating.id, "99")

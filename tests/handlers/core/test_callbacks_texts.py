"""Callback data and UI texts: the contracts every handler relies on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.core.callbacks import MAX_BYTES, Action, BadCallback, build, parse
from handlers.core.i18n import LANGUAGES, TEXTS_DIR, Texts, TextsError, placeholders
from typology.questionnaire import load_questionnaire


def test_every_answer_button_of_the_questionnaire_fits_in_64_bytes() -> None:
    q = load_questionnaire()
    for item in q.items:
        for option in item.options:
            data = build(Action.ANSWER, 2**53, item.id, option.id)
            assert len(data.encode()) <= MAX_BYTES
            assert parse(data).args == (str(2**53), item.id, option.id)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "a",
        "a:1:g01",
        "a:1:g01:5:6",
        "q:1",
        "a:1:g01:5;DROP",
        "a:" + "9" * 70,
        "ä:1",
        "d:yes:no",
    ],
)
def test_malformed_callback_data_is_refused(data: str) -> None:
    with pytest.raises(BadCallback):
        parse(data)


@given(st.text(max_size=80))
def test_parse_never_raises_anything_but_badcallback(data: str) -> None:
    try:
        parsed = parse(data)
    except BadCallback:
        return
    assert build(parsed.action, *parsed.args) == data


def test_build_refuses_what_parse_would_refuse() -> None:
    with pytest.raises(ValueError, match="bad callback fields"):
        build(Action.ANSWER, 1, "g01")
    with pytest.raises(ValueError, match="bad callback fields"):
        build(Action.ANSWER, 1, "g01", "x:y")


def test_int_arg_names_the_problem() -> None:
    with pytest.raises(BadCallback, match="not a number"):
        parse("a:x:g01:5").int_arg(0)


def test_texts_load_with_the_same_keys_and_placeholders_in_every_language() -> None:
    texts = Texts.load()
    assert len(texts.keys()) > 50
    for key in sorted(texts.keys()):
        de, en = (
            texts.get("de", key, **_dummy(texts, key)),
            texts.get("en", key, **_dummy(texts, key)),
        )
        assert de.strip(), key
        assert en.strip(), key


def _dummy(texts: Texts, key: str) -> dict[str, object]:
    template = texts._by_lang["de"][key]
    return dict.fromkeys(placeholders(template), "X")


def test_a_missing_key_in_one_language_fails_loading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for lang in LANGUAGES:
        for src in TEXTS_DIR.glob(f"*.{lang}.toml"):
            (tmp_path / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "extra.de.toml").write_text(
        '[extra]\nonly_german = "Nur deutsch"\n', encoding="utf-8"
    )
    (tmp_path / "extra.en.toml").write_text("[extra]\n", encoding="utf-8")
    with pytest.raises(TextsError, match="only_german"):
        Texts.load(tmp_path)


def test_a_key_defined_twice_fails_loading(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for lang in LANGUAGES:
        (tmp_path / f"a.{lang}.toml").write_text('[x]\ny = "1"\n', encoding="utf-8")
        (tmp_path / f"b.{lang}.toml").write_text('[x]\ny = "2"\n', encoding="utf-8")
    with pytest.raises(TextsError, match="another file"):
        Texts.load(tmp_path)


def test_unknown_language_falls_back_to_default() -> None:
    texts = Texts.load()
    assert texts.get("fr", "question.back") == texts.get("de", "question.back")

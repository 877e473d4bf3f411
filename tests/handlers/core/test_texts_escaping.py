"""Every UI text stays valid Telegram HTML whatever a user puts into its placeholders."""

from __future__ import annotations

import pytest

from handlers.core.i18n import LANGUAGES, Html, Texts, escape, placeholders
from sandbox.formatting import parse_html

HOSTILE = (
    'Runde A & Co <b>fett</b> </i> <a href="https://evil.example">klick</a> &amp; &#x; "x" \'y\''
)


@pytest.fixture(scope="module")
def texts() -> Texts:
    return Texts.load()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_parses_with_hostile_values(texts: Texts, lang: str) -> None:
    checked = 0
    for key in sorted(texts.keys()):
        names = placeholders(texts.template(lang, key))
        if not names:
            continue
        rendered = texts.get(lang, key, **dict.fromkeys(names, HOSTILE))
        plain, entities = parse_html(rendered)  # raises "can't parse entities" on bad markup
        assert HOSTILE in plain, key
        assert not any(e.get("type") == "text_link" for e in entities), key
        checked += 1
    assert checked > 20  # the loop really ran over the texts with placeholders


def test_markup_marked_safe_is_not_escaped_twice(texts: Texts) -> None:
    bold = Html("<b>Titel</b>")
    rendered = texts.get("de", "start.closed", title=bold)
    plain, entities = parse_html(rendered)
    assert "Titel" in plain
    assert "<b>" not in plain
    assert any(e["type"] == "bold" for e in entities)
    assert escape(escape("a & b")) == "a &amp; b"


def test_plain_leaves_button_labels_alone(texts: Texts) -> None:
    label = texts.plain("de", "start.switch_button", title="A & B")
    assert "A & B" in label
    assert "&amp;" not in label

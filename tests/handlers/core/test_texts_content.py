"""What the texts say: grammar with every type, quotes per language, an accurate privacy notice."""

from __future__ import annotations

import re

import pytest

from bot.app import build_services
from bot.settings import load_settings
from handlers.core import render
from handlers.core.context import Services
from handlers.core.i18n import LANGUAGES, Texts
from sandbox.formatting import parse_html
from storage.database import Database
from typology.profiles import load_profiles
from typology.scoring import Result
from typology.types import TYPES, TypeId

GERMAN_QUOTE = "„"  # U+201E opens a quote in German only; English opens with U+201C


@pytest.fixture(scope="module")
def services() -> Services:
    settings = load_settings(retention_days=21, controller="Stadt Musterstadt, Rathausplatz 1")
    return build_services(settings, Database("sqlite+aiosqlite:///:memory:"))


def _result(main: TypeId, second: TypeId, *, mixed: bool) -> Result:
    others = [t for t in TYPES if t not in (main, second)]
    affinities = {main: 40.0, second: 38.0, others[0]: 12.0, others[1]: 10.0}
    return Result(main, second, mixed, affinities, [], {}, "1", "1")


def _plain(html: str) -> str:
    return parse_html(html)[0]


@pytest.mark.parametrize("second", TYPES)
def test_mixed_result_is_grammatical_with_every_type(services: Services, second: TypeId) -> None:
    main = next(t for t in TYPES if t != second)
    result = _result(main, second, mixed=True)
    de = _plain(render.result_text(services, result, "de"))
    en = _plain(render.result_text(services, result, "en"))
    name_de = load_profiles("de")[second].name  # "Die Optimierer"
    name_en = load_profiles("en")[second].name  # "The Optimisers"
    assert f"Typ {name_de}" not in de
    assert name_de not in de.split("Mischtyp", 1)[1].split("\n")[0]  # a form fit for the sentence
    assert re.search(r"\b(den|dem|der) \S+", de.split("Mischtyp", 1)[1])
    assert f"{name_en} is" not in en
    assert f"{name_en.replace('The ', 'the ', 1)}" in en.split("mixed type", 1)[1]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_result_and_card_quote_the_heading_in_the_language(services: Services, lang: str) -> None:
    for type_id in TYPES:
        result = _result(type_id, TYPES[(TYPES.index(type_id) + 1) % 4], mixed=False)
        profile = services.profiles[lang][type_id]
        shown = render.result_text(services, result, lang) + render.profile_card(
            services, profile, lang
        )
        if lang == "en":
            assert GERMAN_QUOTE not in shown
            assert f"“{profile.heading}”" in shown
        else:
            assert f"„{profile.heading}“" in shown


def test_english_texts_and_cards_use_english_quotes() -> None:
    texts = Texts.load()
    for key in sorted(texts.keys()):
        assert GERMAN_QUOTE not in texts.template("en", key), key
        assert '"' not in re.sub(r'href="[^"]*"', "", texts.template("en", key)), key
    for profile in load_profiles("en").values():
        for text in (profile.heading, profile.way_of_working, profile.brings):
            assert GERMAN_QUOTE not in text
            assert '"' not in text


def test_no_policing_overtones_in_the_english_heading() -> None:
    heading = load_profiles("en")[TypeId.BEDAECHTIGE].heading.lower()
    assert "law and order" not in heading


@pytest.mark.parametrize("lang", LANGUAGES)
def test_welcome_and_joining_say_pseudonymous_not_anonymous(services: Services, lang: str) -> None:
    t = services.texts
    shown = " ".join(
        t.get(lang, key, total=15, title="Runde")
        for key in ("start.welcome", "start.joining", "start.privacy_short")
    ).lower()
    assert "anonym" not in shown
    assert "pseudonym" in shown
    assert "telegram" in shown


@pytest.mark.parametrize("lang", LANGUAGES)
def test_privacy_notice_names_retention_controller_and_telegram(
    services: Services, lang: str
) -> None:
    text = _plain(render.privacy_notice(services, lang))
    assert "21" in text
    assert "Stadt Musterstadt, Rathausplatz 1" in text
    assert "Telegram" in text
    assert "some time" not in text
    assert "einige Zeit" not in text


def test_privacy_notice_without_a_controller_says_so(services: Services) -> None:
    bare = build_services(load_settings(), Database("sqlite+aiosqlite:///:memory:"))
    for lang in LANGUAGES:
        text = _plain(render.privacy_notice(bare, lang))
        assert "30" in text  # the default retention
        assert text.count("{") == 0


CARD_MAX_CHARS, CARD_MAX_LINES = 600, 14  # about one phone screen; "more" shows the rest
FIRST_PERSON = {"de": r"\b(wir|uns|unser\w*)\b", "en": r"\b(we|us|our)\b"}
GOING_FIRST = {
    "de": r"mutig|\bMut\b|voran|als Erste|warten",
    "en": r"courage|bold|first|lead the way|waiting",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_card_fits_one_phone_screen_in_one_voice(services: Services, lang: str) -> None:
    for type_id, profile in services.profiles[lang].items():
        card = _plain(render.profile_card(services, profile, lang))
        assert len(card) <= CARD_MAX_CHARS, (type_id, len(card))
        assert len(card.splitlines()) <= CARD_MAX_LINES, type_id
        full = _plain(render.profile_card(services, profile, lang, full=True))
        assert full.startswith(card)
        assert all(q in full for q in profile.reflection)
        assert not re.search(FIRST_PERSON[lang], full, re.IGNORECASE), (type_id, full)
        assert "So arbeiten Sie" not in full  # the card speaks of the type, not of "you"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_deliberate_are_not_nudged_towards_going_first(services: Services, lang: str) -> None:
    profile = services.profiles[lang][TypeId.BEDAECHTIGE]
    texts = [
        profile.way_of_working,
        profile.brings,
        *profile.strengths,
        *profile.learn_from.values(),
        *profile.reflection,
    ]
    for text in texts:
        assert not re.search(GOING_FIRST[lang], text, re.IGNORECASE), text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_rating_question_shows_its_stem(services: Services, lang: str) -> None:
    stem = {"de": "Wie wichtig ist dieses Ziel derzeit in Ihrer Kommune", "en": "How important"}
    for item in services.questionnaire.items:
        text, _ = render.question(services, run_id=1, item_id=item.id, answers={}, lang=lang)
        plain = _plain(text)
        assert (stem[lang] in plain) == (item.kind == "rating"), item.id
        assert item.text(lang) in plain

"""What the Mini App shows, as JSON-ready data: questions, result and texts in one language.

The chat's texts are Telegram HTML; the app puts text into the page with textContent, so they
are turned into plain text here and nothing from the server is ever parsed as markup.
"""

from __future__ import annotations

import html
import re
from typing import Any

from handlers.core.context import Services
from handlers.core.i18n import Texts
from handlers.core.render import type_name
from typology.group import percent_shares
from typology.questionnaire import SKIP
from typology.scoring import Result
from typology.types import TYPES, TypeId
from web.journey import Switch

_TAG = re.compile(r"<[^>]*>")
JSON = dict[str, Any]
# UI strings the app takes from the chat's texts (same wording in both flows).
CHAT_TEXTS = {
    "stem": "question.stem",
    "context_hint": "question.context_hint",
    "skip": "question.skip",
    "consent_button": "start.consent_button",
    "again": "result.again_button",
    "result_title": "result.title",
    "closest": "result.closest",
    "affinities": "result.affinities",
    "deciding": "result.deciding",
    "no_ranking": "result.no_ranking",
    "run_over": "question.run_over",
    "invalid": "question.invalid",
}


def plain(text: str) -> str:
    """Returns Telegram HTML as plain text: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text))


def ui_texts(services: Services, web_texts: Texts, lang: str) -> dict[str, str]:
    """Returns the app's strings in lang, plain text, {n}/{total} left for the page to fill."""
    names = sorted(web_texts.keys())  # Texts is no mapping: keys() is its own method
    texts = {key.removeprefix("app."): web_texts.template(lang, key) for key in names}
    texts.update(
        {name: plain(services.texts.plain(lang, key)) for name, key in CHAT_TEXTS.items()}
    )
    other = "en" if lang == "de" else "de"
    texts["language_button"] = plain(services.texts.plain(other, "start.language_button"))
    texts["other_language"] = other
    return texts


def welcome(services: Services, lang: str, workshop_title: str | None) -> JSON:
    """Returns the welcome with the privacy note, as the chat shows it before consent."""
    t = services.texts
    return {
        "text": plain(t.get(lang, "start.welcome", total=len(services.questionnaire.items))),
        "joining": None
        if workshop_title is None
        else plain(t.get(lang, "start.joining", title=workshop_title)),
        "privacy": plain(t.get(lang, "start.privacy_short")),
    }


def items(services: Services, version: str, lang: str) -> list[JSON]:
    """Returns every question of a questionnaire version with its options, in order."""
    q = services.questionnaire_for(version)
    out = []
    for item in q.items:
        options = [{"id": o.id, "text": o.text(lang)} for o in item.options]
        if item.kind == "context":
            options.append(
                {"id": SKIP, "text": plain(services.texts.plain(lang, "question.skip"))}
            )
        out.append({"id": item.id, "kind": item.kind, "text": item.text(lang), "options": options})
    return out


def result(services: Services, found: Result, lang: str) -> JSON:
    """Returns the participant's result: type, closeness to all four, what decided it, card."""
    q = services.questionnaire_for(found.questionnaire_version)
    profile = services.profiles[lang][found.main_type]
    shares = dict(zip(TYPES, percent_shares([found.affinities[t] for t in TYPES]), strict=True))
    t = services.texts
    return {
        "type": found.main_type.value,
        "name": profile.name,
        "heading": profile.heading,
        "mixed": None
        if not found.mixed
        else plain(
            t.get(
                lang,
                "result.mixed",
                other=t.get(lang, f"type_in_sentence.{TypeId(found.second_type).value}"),
            )
        ),
        "affinities": [
            {"type": k.value, "name": type_name(services, k, lang), "percent": shares[k]}
            for k in sorted(TYPES, key=lambda k: -found.affinities[k])
        ],
        "deciding": [q.item(i).text(lang) for i in found.deciding],
        "card": {
            "title": plain(t.get(lang, "card.title", name=profile.name)),
            "strengths_heading": plain(t.get(lang, "card.strengths")),
            "strengths": list(profile.strengths),
            "way_of_working": plain(
                t.get(lang, "card.way_of_working", text=profile.way_of_working)
            ),
            "brings": plain(t.get(lang, "card.brings", text=profile.brings)),
        },
    }


def switch(services: Services, offer: Switch, lang: str) -> JSON:
    """Returns the chat's question which workshop a run in progress counts for, and its two
    answers, in plain text (titles escaped and decoded, as every text the app shows)."""
    t, values = services.texts, {"title": offer.title, "n": offer.n, "total": offer.total}
    if offer.current is None:
        text = t.get(lang, "start.switch_from_solo", **values)
    else:
        text = t.get(lang, "start.switch_from_session", current=offer.current, **values)
    return {
        "code": offer.code,
        "text": plain(text),
        "count": plain(t.get(lang, "start.switch_button", title=offer.title)),
        "stay": plain(t.get(lang, "start.stay_button")),
    }

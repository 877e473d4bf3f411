"""Turns domain objects into message texts and keyboards (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.core.callbacks import Action, build
from handlers.core.context import Services
from handlers.core.i18n import escape
from typology.group import percent_shares
from typology.profiles import Profile
from typology.questionnaire import SKIP, Item
from typology.scoring import Result
from typology.types import TYPES, TypeId


def question(
    services: Services,
    *,
    run_id: int,
    item_id: str,
    answers: Mapping[str, str],
    lang: str,
    version: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """Renders one question of the run's questionnaire version with progress, options, back."""
    q, t = services.questionnaire_for(version), services.texts
    items = q.items
    index = next(i for i, it in enumerate(items) if it.id == item_id)
    item = items[index]
    chosen = answers.get(item.id)
    lines = [t.get(lang, "question.progress", n=index + 1, total=len(items)), ""]
    if item.kind == "rating":  # a bare goal above a scale does not say what to rate
        lines.append(t.get(lang, "question.stem"))
    lines.append(f"<b>{escape(item.text(lang))}</b>")
    if item.kind == "context":
        lines += ["", t.get(lang, "question.context_hint")]
    rows = [
        [
            InlineKeyboardButton(
                ("✓ " if opt.id == chosen else "") + opt.text(lang),
                callback_data=build(Action.ANSWER, run_id, item.id, opt.id),
            )
        ]
        for opt in item.options
    ]
    nav: list[InlineKeyboardButton] = []
    if index > 0:
        nav.append(
            InlineKeyboardButton(
                t.get(lang, "question.back"), callback_data=build(Action.BACK, run_id, item.id)
            )
        )
    if item.kind == "context":
        nav.append(
            InlineKeyboardButton(
                ("✓ " if chosen == SKIP else "") + t.get(lang, "question.skip"),
                callback_data=build(Action.ANSWER, run_id, item.id, SKIP),
            )
        )
    if nav:
        rows.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def type_name(services: Services, type_id: TypeId | str, lang: str) -> str:
    """Returns the display name of a type in a language."""
    return services.profiles[lang][TypeId(type_id)].name


def result_text(services: Services, result: Result, lang: str) -> str:
    """Renders the participant's result: type, affinities, what decided it."""
    t, q = services.texts, services.questionnaire_for(result.questionnaire_version)
    profile = services.profiles[lang][result.main_type]
    lines = [
        t.get(lang, "result.title"),
        t.get(lang, "result.closest"),
        t.get(lang, "result.heading", name=profile.name, heading=profile.heading),
    ]
    if result.mixed:
        other = t.get(lang, f"type_in_sentence.{TypeId(result.second_type).value}")
        lines += ["", t.get(lang, "result.mixed", other=other)]
    lines += ["", t.get(lang, "result.affinities")]
    shares = dict(zip(TYPES, percent_shares([result.affinities[t] for t in TYPES]), strict=True))
    for type_id in sorted(TYPES, key=lambda t: -result.affinities[t]):
        lines.append(f"• {escape(type_name(services, type_id, lang))}: {shares[type_id]} %")
    if result.deciding:
        lines += ["", t.get(lang, "result.deciding")]
        for item_id in result.deciding:
            item: Item = q.item(item_id)
            lines.append(f"• {escape(item.text(lang))}")
    lines += ["", t.get(lang, "result.no_ranking")]
    return "\n".join(lines)


def profile_card(services: Services, profile: Profile, lang: str, *, full: bool = False) -> str:
    """Renders a Steckbrief: one phone screen, or with full=True also learning and questions."""
    t = services.texts
    lines = [
        t.get(lang, "card.title", name=profile.name),
        t.get(lang, "card.heading", heading=profile.heading),
        "",
        t.get(lang, "card.strengths"),
        *(f"• {escape(s)}" for s in profile.strengths),
        "",
        t.get(lang, "card.way_of_working", text=profile.way_of_working),
        t.get(lang, "card.brings", text=profile.brings),
    ]
    if not full:
        return "\n".join(lines)
    lines += [
        "",
        t.get(lang, "card.learn"),
        *(
            f"• <b>{escape(type_name(services, other, lang))}</b>: {escape(text)}"
            for other, text in profile.learn_from.items()
        ),
        "",
        t.get(lang, "card.questions"),
        *(f"• {escape(s)}" for s in profile.reflection),
    ]
    return "\n".join(lines)


def privacy_notice(services: Services, lang: str) -> str:
    """Renders the privacy notice with the retention period and the controller from settings."""
    t = services.texts
    controller = services.controller or t.get(lang, "info.controller_missing")
    return t.get(
        lang,
        "info.privacy",
        days=services.retention_days,
        k=services.privacy_threshold,
        controller=controller,
    )


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Builds an inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )

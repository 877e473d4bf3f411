"""Renders the D-Team post from a group analysis (no I/O, no names)."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.core.i18n import Html, Texts, escape
from typology.group import GroupAnalysis
from typology.profiles import Profile
from typology.types import TYPES, TypeId

BALANCE_HIGH, BALANCE_MID = 0.85, 0.6


def _number(value: float, lang: str, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "de" else text


def _balance_line(texts: Texts, analysis: GroupAnalysis, lang: str) -> str:
    value = analysis.balance or 0.0
    verdict = "high" if value >= BALANCE_HIGH else "mid" if value >= BALANCE_MID else "low"
    if verdict == "high" and (analysis.missing or analysis.under_represented):
        verdict = "high_rare"  # balanced overall, yet a rare type is not "all well represented"
    return texts.get(
        lang,
        "moderation.summary.balance",
        value=_number(value, lang),
        verdict=texts.get(lang, f"moderation.summary.balance_{verdict}"),
    )


def _goals_and_mixed(
    texts: Texts, analysis: GroupAnalysis, goal_labels: Mapping[str, str], lang: str
) -> list[str]:
    """Renders the group's highest and lowest goals and how many results were mixed types."""
    lines = [texts.get(lang, "moderation.summary.goals")] if analysis.top_goals else []
    for key, goals in (("goals_top", analysis.top_goals), ("goals_bottom", analysis.bottom_goals)):
        if goals:
            names = ", ".join(escape(goal_labels.get(g, g)) for g in goals)
            lines.append(texts.get(lang, f"moderation.summary.{key}", goals=Html(names)))
    mixed = texts.get(lang, "moderation.summary.mixed", mixed=analysis.mixed, n=analysis.counted)
    return [*lines, mixed]


def next_step(texts: Texts, analysis: GroupAnalysis, lang: str) -> str:
    """Suggests breakout teams of a size that fits the group, or a joint round if it is small."""
    n = analysis.n
    size = 4 if n >= 8 else 3 if n >= 6 else 2 if n >= 4 else 0
    if not size:
        return texts.get(lang, "moderation.summary.next_step_small")
    return texts.get(lang, "moderation.summary.next_step", size=size)


def discussion_prompts(
    texts: Texts, profiles: Mapping[TypeId, Profile], analysis: GroupAnalysis, lang: str
) -> list[str]:
    """Returns three prompts: a missing perspective, the dominant view, and the next step."""
    prompts: list[str] = []
    gaps = analysis.missing + analysis.under_represented
    if gaps:
        name = escape(profiles[gaps[0]].name)
        prompts.append(texts.get(lang, "moderation.summary.prompt_gap", name=name))
    dominant = max(TYPES, key=lambda t: (analysis.counts.get(t, 0), -TYPES.index(t)))
    prompts.append(
        texts.get(lang, "moderation.summary.prompt_dominant", name=escape(profiles[dominant].name))
    )
    if not gaps:
        prompts.append(escape(profiles[dominant].reflection[0]))
    prompts.append(texts.get(lang, "moderation.summary.prompt_team"))
    return prompts[:3]


def summary_text(
    texts: Texts,
    profiles: Mapping[TypeId, Profile],
    analysis: GroupAnalysis,
    *,
    title: str,
    lang: str,
    goal_labels: Mapping[str, str] | None = None,
) -> str:
    """Renders the D-Team post: composition, balance, gaps, strengths and discussion prompts."""
    t = texts.get
    if analysis.below_threshold:
        return t(
            lang,
            "moderation.summary.below",
            needed=analysis.needed,
            n=analysis.n,
            k=analysis.k_threshold,
        )
    lines = [
        t(lang, "moderation.summary.title", title=escape(title)),
        t(lang, "moderation.summary.finished", n=analysis.n),
    ]
    if analysis.counted < analysis.n:
        lines.append(
            t(lang, "moderation.summary.counted", counted=analysis.counted, k=analysis.k_threshold)
        )
    lines += ["", t(lang, "moderation.summary.composition")]
    for type_id in TYPES:
        share = analysis.shares[type_id]
        lines.append(f"• {escape(profiles[type_id].name)}: {analysis.counts[type_id]} ({share} %)")
    lines += ["", _balance_line(texts, analysis, lang)]
    lines += ["", *_goals_and_mixed(texts, analysis, goal_labels or {}, lang)]
    lines += ["", t(lang, "moderation.summary.gaps")]
    for key, group in (("missing", analysis.missing), ("rare", analysis.under_represented)):
        for type_id in group:
            meaning = t(lang, f"moderation.summary.gap_{type_id.value}")
            name = escape(profiles[type_id].name)
            lines.append("• " + t(lang, f"moderation.summary.{key}", name=name, meaning=meaning))
    if not analysis.missing and not analysis.under_represented:
        lines.append(t(lang, "moderation.summary.no_gaps"))
    lines += ["", t(lang, "moderation.summary.strengths")]
    for type_id in TYPES:
        if analysis.counts[type_id]:
            profile = profiles[type_id]
            lines.append(f"• <b>{escape(profile.name)}</b>: {escape(profile.brings)}")
    lines += ["", t(lang, "moderation.summary.prompts")]
    prompts = discussion_prompts(texts, profiles, analysis, lang)
    lines += [f"{i}. {p}" for i, p in enumerate(prompts, 1)]
    lines += ["", next_step(texts, analysis, lang)]
    lines += ["", t(lang, "moderation.summary.no_ranking")]
    return "\n".join(lines)


def summary_caption(texts: Texts, analysis: GroupAnalysis, *, title: str, lang: str) -> str:
    """Returns the short caption of the composition chart (the people it counts)."""
    return texts.get(lang, "moderation.summary.caption", title=escape(title), n=analysis.counted)

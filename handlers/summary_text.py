"""Renders the D-Team post from a group analysis (no I/O, no names)."""

from __future__ import annotations

from collections.abc import Mapping

from handlers.i18n import Texts, escape
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
        verdict = "mid"  # a missing or rare perspective is not "all well represented"
    return texts.get(
        lang,
        "moderation.summary.balance",
        value=_number(value, lang),
        verdict=texts.get(lang, f"moderation.summary.balance_{verdict}"),
    )


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
    lines += ["", _balance_line(texts, analysis, lang), "", t(lang, "moderation.summary.gaps")]
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
    lines += ["", t(lang, "moderation.summary.no_ranking")]
    return "\n".join(lines)


def summary_caption(texts: Texts, analysis: GroupAnalysis, *, title: str, lang: str) -> str:
    """Returns the short caption of the composition chart (the people it counts)."""
    return texts.get(lang, "moderation.summary.caption", title=escape(title), n=analysis.counted)

"""The aggregate kept after retention, and the D-Team post at the automatic close."""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from html import escape
from typing import Any

from handlers.context import DTeamContext, Services
from handlers.sending import send
from storage.audience import finished_members, set_aggregate
from storage.models import Workshop
from storage.workshops import get_workshop
from typology.group import Member, analyse
from typology.types import TypeId

log = logging.getLogger(__name__)

SKIP = "x"  # the "no answer" option of context questions


def aggregate_of(services: Services, members: list[Member]) -> dict[str, Any]:
    """Returns the group analysis as plain JSON values (what survives the purge)."""
    analysis = analyse(members, k_threshold=services.privacy_threshold)
    data = dataclasses.asdict(analysis)
    return _plain(data)  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, TypeId) else value


async def store_aggregate(
    services: Services, workshop: Workshop, *, only_if_missing: bool = False
) -> dict[str, Any]:
    """Computes the workshop's composition from its results and stores it in Workshop.aggregate."""
    assert workshop.id is not None
    async with services.db.write() as session:
        fresh = await get_workshop(session, workshop_id=workshop.id)
        if only_if_missing and fresh is not None and fresh.aggregate is not None:
            return dict(fresh.aggregate)
        rows = await finished_members(session, workshop_id=workshop.id)
        context_ids = [item.id for item in services.questionnaire.context_items]
        members = [
            Member(
                id=row.pseudonym,
                main_type=TypeId(row.main_type),
                profile=row.profile,
                context={
                    k: row.answers[k] for k in context_ids if row.answers.get(k, SKIP) != SKIP
                },
            )
            for row in rows
        ]
        aggregate = aggregate_of(services, members)
        await set_aggregate(session, workshop_id=workshop.id, aggregate=aggregate)
    workshop.aggregate = aggregate
    return aggregate


async def post_summary(ctx: DTeamContext, workshop: Workshop) -> str:
    """Posts the D-Team summary to the group (and channel): issue 4's post, else a short one."""
    services = ctx.services
    lang = services.default_language
    targets = [workshop.chat_id]
    if importlib.util.find_spec("handlers.summary") is not None:
        # handlers/summary.py (issue 4): workshop_analysis(services, workshop) and
        # post_summary(ctx, chat_id, analysis, title, lang); channel_ready(ctx, channel_id).
        from handlers import summary  # type: ignore[attr-defined,unused-ignore]

        analysis = await summary.workshop_analysis(services, workshop)
        name = workshop.title or workshop.code
        channel = services.channel_id
        if (
            channel is not None
            and not analysis.below_threshold
            and await summary.channel_ready(ctx, channel)
        ):
            targets.append(channel)
        for chat_id in targets:
            await summary.post_summary(ctx, chat_id, analysis, name, lang)
        return f"D-Team post to {len(targets)} chats"
    text = short_summary(services, workshop)
    if services.channel_id is not None:
        targets.append(services.channel_id)
    posted = [t for t in targets if await send(ctx, t, text) is not None]
    return f"short summary to {len(posted)} of {len(targets)} chats"


def short_summary(services: Services, workshop: Workshop) -> str:
    """Renders the stored aggregate: counts and shares per type, or how many more are needed."""
    lang, t = services.default_language, services.texts
    agg = workshop.aggregate or {}
    name = escape(workshop.title or workshop.code)
    lines = [t.get(lang, "timed.summary_title", title=name, n=agg.get("n", 0))]
    if agg.get("below_threshold", True):
        lines.append(t.get(lang, "timed.summary_below", needed=agg.get("needed", 0)))
        return "\n".join(lines)
    profiles = services.profiles[lang]
    counts, shares = agg.get("counts", {}), agg.get("shares", {})
    for type_id in counts:
        type_name = escape(profiles[TypeId(type_id)].name)
        lines.append(f"• {type_name}: {counts[type_id]} ({shares.get(type_id, 0):.0f} %)")
    missing = [escape(profiles[TypeId(m)].name) for m in agg.get("missing", [])]
    if missing:
        lines.append(t.get(lang, "timed.summary_missing", types=", ".join(missing)))
    return "\n".join(lines)

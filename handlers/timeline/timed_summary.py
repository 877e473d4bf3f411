"""The aggregate kept after retention, and the D-Team post at the automatic close."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from handlers.core.context import DTeamContext, Services
from handlers.core.moderation import title_of
from handlers.websession import summary
from storage.audience import set_aggregate
from storage.groups import finished_members
from storage.models import Workshop
from storage.workshops import get_workshop
from typology.group import Member, analyse
from typology.questionnaire import SKIP
from typology.types import TypeId

log = logging.getLogger(__name__)


def aggregate_of(services: Services, members: list[Member]) -> dict[str, Any]:
    """Returns the group analysis as plain JSON values (what survives the purge)."""
    analysis = analyse(members, k_threshold=services.privacy_threshold)
    data = {**dataclasses.asdict(analysis), "counted": analysis.counted}  # a property, not a field
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
        context_ids = [item.id for item in services.questionnaire.context_items]
        rows = await finished_members(session, workshop_id=workshop.id, context_items=context_ids)
        members = [
            Member(
                id=row.pseudonym,
                main_type=TypeId(row.main_type),
                profile=row.profile,
                context={
                    k: row.context[k] for k in context_ids if row.context.get(k, SKIP) != SKIP
                },
            )
            for row in rows
        ]
        aggregate = aggregate_of(services, members)
        await set_aggregate(session, workshop_id=workshop.id, aggregate=aggregate)
    workshop.aggregate = aggregate
    return aggregate


async def post_closing_summary(ctx: DTeamContext, workshop: Workshop) -> str:
    """Posts the D-Team post at the close to the group and, where allowed and ready, a channel."""
    services = ctx.services
    analysis = await summary.workshop_analysis(services, workshop)
    name = title_of(services, workshop, services.default_language)
    targets = [workshop.chat_id]
    channel = services.channel_id
    if (
        channel is not None
        and not analysis.below_threshold
        and summary.may_reach_channel(services, workshop.chat_id)  # no user: the group decides
        and await summary.channel_ready(ctx, channel)
    ):
        targets.append(channel)
    for chat_id in targets:
        await summary.post_dteam_summary(ctx, chat_id, analysis, name, services.default_language)
    return f"D-Team post to {len(targets)} chat(s)"

"""Retention: what still holds personal data, and its deletion (each step idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.groups import delete_runs, reset_workshop
from storage.models import (
    Delivery,
    Participant,
    ProcessedUpdate,
    Run,
    ScheduledMessage,
    Workshop,
)
from storage.workshops import CLOSED


@dataclass(frozen=True)
class Held:
    """A workshop that still holds personal data, and when anything last happened in it."""

    workshop: Workshop
    last_activity: datetime


def _latest(*values: datetime | None) -> datetime:
    return max(v for v in values if v is not None)


async def workshops_holding_data(session: AsyncSession) -> list[Held]:
    """Returns workshops not purged yet, or with runs or joined people again (reopened)."""
    runs = (
        select(col(Run.workshop_id), func.max(col(Run.updated_at)))
        .where(col(Run.workshop_id).is_not(None))
        .group_by(col(Run.workshop_id))
    )
    last_run = {int(w or 0): at for w, at in (await session.execute(runs)).all()}
    joins = (
        select(col(Participant.joined_workshop_id), func.max(col(Participant.joined_at)))
        .where(col(Participant.joined_workshop_id).is_not(None))
        .group_by(col(Participant.joined_workshop_id))
    )
    last_join = {int(w or 0): at for w, at in (await session.execute(joins)).all()}
    delivered = select(col(ScheduledMessage.workshop_id)).join(
        Delivery, col(Delivery.scheduled_message_id) == col(ScheduledMessage.id)
    )
    res = await session.execute(
        select(Workshop).where(
            or_(
                col(Workshop.purged_at).is_(None),
                # Subqueries, not a list of ids: SQLite binds only so many parameters.
                col(Workshop.id).in_(select(col(Run.workshop_id))),
                col(Workshop.id).in_(select(col(Participant.joined_workshop_id))),
                col(Workshop.id).in_(delivered),
            )
        )
    )
    out = []
    for workshop in res.scalars():
        wid = workshop.id or 0
        # A workshop planned for later (ends_at ahead) is active until then.
        last = _latest(
            workshop.created_at,
            workshop.closed_at,
            workshop.ends_at,
            last_run.get(wid),
            last_join.get(wid),
        )
        out.append(Held(workshop, last))
    return out


async def purge_workshop(session: AsyncSession, *, workshop_id: int, now: datetime) -> int:
    """Deletes who took part in a workshop and what they answered; returns runs deleted.

    Runs with answers and results, delivery rows of its timed messages (they name each
    recipient), and participants' pending joins. An open workshop is closed as well, so that
    nobody adds to a purged workshop. The aggregate in Workshop.aggregate stays.
    """
    deleted = await reset_workshop(session, workshop_id=workshop_id)
    messages = select(col(ScheduledMessage.id)).where(
        col(ScheduledMessage.workshop_id) == workshop_id
    )
    await session.execute(delete(Delivery).where(col(Delivery.scheduled_message_id).in_(messages)))
    await session.execute(
        update(Participant)
        .where(col(Participant.joined_workshop_id) == workshop_id)
        .values(joined_workshop_id=None, joined_at=None)
    )
    await session.execute(
        update(Workshop)
        .where(col(Workshop.id) == workshop_id)
        .values(
            purged_at=now,
            status=CLOSED,
            closed_at=func.coalesce(col(Workshop.closed_at), now),
            live_dirty=False,
        )
    )
    return deleted


async def purge_loose_runs(session: AsyncSession, *, idle_before: datetime) -> int:
    """Deletes runs outside any workshop (solo, or cut loose) idle since before idle_before."""
    return await delete_runs(
        session, col(Run.workshop_id).is_(None), col(Run.updated_at) < idle_before
    )


async def forget_idle_participants(session: AsyncSession, *, idle_before: datetime) -> int:
    """Deletes participants with no run left and nothing done since before idle_before."""
    consent, joined = col(Participant.consent_at), col(Participant.joined_at)
    res = await session.execute(
        delete(Participant).where(
            ~exists().where(col(Run.participant_id) == col(Participant.id)),
            col(Participant.created_at) < idle_before,
            or_(consent.is_(None), consent < idle_before),
            or_(joined.is_(None), joined < idle_before),
        )
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def forget_processed_updates(session: AsyncSession, *, before: datetime) -> int:
    """Deletes de-duplication rows of updates older than Telegram could deliver again."""
    res = await session.execute(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < before)
    )
    return int(getattr(res, "rowcount", 0) or 0)

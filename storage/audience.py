"""Who a timed message goes to, workshop progress, and the retention purge of raw answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Participant, Run, ScheduledMessage, Workshop
from storage.runs import ABANDONED, FINISHED, IN_PROGRESS


@dataclass(frozen=True)
class Recipient:
    """A participant a timed message may go to."""

    participant_id: int
    telegram_id: int
    language: str | None
    run_id: int | None = None


def _reachable() -> Any:
    return (col(Participant.reminders).is_(True)) & (col(Participant.blocked_at).is_(None))


async def joined_recipients(session: AsyncSession, *, workshop_id: int) -> list[Recipient]:
    """Returns joined participants who want reminders and did not block the bot."""
    res = await session.execute(
        select(col(Participant.id), col(Participant.telegram_id), col(Participant.language))
        .where(
            col(Participant.id).in_(
                select(col(Run.participant_id)).where(
                    col(Run.workshop_id) == workshop_id,
                    col(Run.status) != ABANDONED,
                )
            ),
            _reachable(),
        )
        .order_by(col(Participant.id))
    )
    return [Recipient(int(p or 0), int(t), lang) for p, t, lang in res.all()]


async def idle_recipients(
    session: AsyncSession, *, workshop_id: int, idle_before: datetime
) -> list[Recipient]:
    """Returns participants whose unfinished run has been idle since before idle_before."""
    res = await session.execute(
        select(
            col(Participant.id),
            col(Participant.telegram_id),
            col(Participant.language),
            col(Run.id),
        )
        .join(Run, col(Run.participant_id) == col(Participant.id))
        .where(
            col(Run.workshop_id) == workshop_id,
            col(Run.status) == IN_PROGRESS,
            col(Run.updated_at) < idle_before,
            col(Run.nudged_at).is_(None),
            _reachable(),
        )
        .order_by(col(Run.id))
    )
    return [Recipient(int(p or 0), int(t), lang, int(r or 0)) for p, t, lang, r in res.all()]


async def mark_nudged(session: AsyncSession, *, run_ids: Sequence[int], now: datetime) -> None:
    """Records that these runs got their one nudge."""
    if run_ids:
        await session.execute(update(Run).where(col(Run.id).in_(run_ids)).values(nudged_at=now))


async def progress(session: AsyncSession, *, workshop_id: int) -> tuple[int, int]:
    """Returns (joined, finished) participants of a workshop."""
    joined = select(func.count(distinct(col(Run.participant_id)))).where(
        col(Run.workshop_id) == workshop_id,
        col(Run.status) != ABANDONED,
    )
    finished = select(func.count(distinct(col(Run.participant_id)))).where(
        col(Run.workshop_id) == workshop_id,
        col(Run.status) == FINISHED,
    )
    return int((await session.execute(joined)).scalar_one()), int(
        (await session.execute(finished)).scalar_one()
    )


async def set_aggregate(
    session: AsyncSession, *, workshop_id: int, aggregate: dict[str, Any]
) -> None:
    """Stores the aggregated composition of a workshop (kept after the purge)."""
    await session.execute(
        update(Workshop).where(col(Workshop.id) == workshop_id).values(aggregate=aggregate)
    )


async def closed_without_purge(session: AsyncSession) -> list[Workshop]:
    """Returns closed, unpurged workshops that have no purge row yet (closed by hand)."""
    has_purge = select(col(ScheduledMessage.workshop_id)).where(
        col(ScheduledMessage.kind) == "purge"
    )
    res = await session.execute(
        select(Workshop).where(
            col(Workshop.closed_at).is_not(None),
            col(Workshop.purged_at).is_(None),
            col(Workshop.id).not_in(has_purge),
        )
    )
    return list(res.scalars())

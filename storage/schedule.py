"""Scheduled messages: rows per workshop, atomic claims, per-recipient deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Delivery, ScheduledMessage, Workshop

PENDING = "pending"
CLAIMED = "claimed"
SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"
DETAIL_MAX = 500


async def set_timeline(
    session: AsyncSession,
    *,
    workshop: Workshop,
    starts_at: datetime | None,
    ends_at: datetime | None,
    settings: dict[str, object],
) -> None:
    """Stores the workshop's start, end and per-workshop timeline settings."""
    workshop.starts_at, workshop.ends_at = starts_at, ends_at
    workshop.settings = settings
    session.add(workshop)


async def replace_plan(
    session: AsyncSession, *, workshop_id: int, items: Sequence[tuple[str, datetime]]
) -> list[ScheduledMessage]:
    """Makes the workshop's rows match (kind, due_at) items; a moved row is pending again."""
    res = await session.execute(
        select(ScheduledMessage).where(col(ScheduledMessage.workshop_id) == workshop_id)
    )
    existing = {row.kind: row for row in res.scalars()}
    wanted = dict(items)
    for kind, row in existing.items():
        if kind not in wanted:
            await session.delete(row)
    out: list[ScheduledMessage] = []
    for kind, due_at in wanted.items():
        found = existing.get(kind)
        if found is None:
            row = ScheduledMessage(workshop_id=workshop_id, kind=kind, due_at=due_at)
            session.add(row)
        elif (row := found).due_at != due_at:
            # A new time is a new message: its recipients may hear from us again.
            await session.execute(
                delete(Delivery).where(col(Delivery.scheduled_message_id) == row.id)
            )
            row.due_at, row.status, row.detail = due_at, PENDING, None
            row.claimed_by = row.claimed_at = row.done_at = None
        out.append(row)
    await session.flush()
    return out


async def add_missing(
    session: AsyncSession, *, workshop_id: int, items: Sequence[tuple[str, datetime]]
) -> list[ScheduledMessage]:
    """Adds rows for kinds the workshop does not have yet; returns the new rows."""
    res = await session.execute(
        select(col(ScheduledMessage.kind)).where(col(ScheduledMessage.workshop_id) == workshop_id)
    )
    have = set(res.scalars())
    rows = [
        ScheduledMessage(workshop_id=workshop_id, kind=kind, due_at=due_at)
        for kind, due_at in items
        if kind not in have
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def clear_plan(session: AsyncSession, *, workshop_id: int) -> int:
    """Deletes the workshop's rows that have not been done yet; returns how many."""
    res = await session.execute(
        delete(ScheduledMessage).where(
            col(ScheduledMessage.workshop_id) == workshop_id,
            col(ScheduledMessage.status).in_((PENDING, CLAIMED)),
        )
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def workshop_rows(session: AsyncSession, *, workshop_id: int) -> list[ScheduledMessage]:
    """Returns the workshop's rows in due order."""
    res = await session.execute(
        select(ScheduledMessage)
        .where(col(ScheduledMessage.workshop_id) == workshop_id)
        .order_by(col(ScheduledMessage.due_at), col(ScheduledMessage.id))
    )
    return list(res.scalars())


async def get_row(session: AsyncSession, *, row_id: int) -> ScheduledMessage | None:
    """Returns one row."""
    return await session.get(ScheduledMessage, row_id)


async def pending_rows(session: AsyncSession) -> list[ScheduledMessage]:
    """Returns every row still to be sent, in due order (for scheduling at start-up)."""
    res = await session.execute(
        select(ScheduledMessage)
        .where(col(ScheduledMessage.status) == PENDING)
        .order_by(col(ScheduledMessage.due_at))
    )
    return list(res.scalars())


def _claimable(now: datetime, stale_before: datetime) -> ColumnElement[bool]:
    return and_(
        col(ScheduledMessage.due_at) <= now,
        or_(
            col(ScheduledMessage.status) == PENDING,
            and_(
                col(ScheduledMessage.status) == CLAIMED,
                col(ScheduledMessage.claimed_at) < stale_before,
            ),
        ),
    )


async def due_row_ids(
    session: AsyncSession, *, now: datetime, stale_before: datetime
) -> list[int]:
    """Returns ids of rows that are due, or were claimed by a process that went silent."""
    res = await session.execute(
        select(col(ScheduledMessage.id))
        .where(_claimable(now, stale_before))
        .order_by(col(ScheduledMessage.due_at))
    )
    return [int(i) for i in res.scalars() if i is not None]


async def claim(
    session: AsyncSession, *, row_id: int, me: str, now: datetime, stale_before: datetime
) -> bool:
    """Claims a due row for this process; only one process wins (a single UPDATE)."""
    res = await session.execute(
        update(ScheduledMessage)
        .where(col(ScheduledMessage.id) == row_id, _claimable(now, stale_before))
        .values(status=CLAIMED, claimed_by=me, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0) == 1


async def heartbeat(session: AsyncSession, *, row_id: int, me: str, now: datetime) -> bool:
    """Refreshes our claim so that a long broadcast is not taken over; False if we lost it."""
    res = await session.execute(
        update(ScheduledMessage)
        .where(
            col(ScheduledMessage.id) == row_id,
            col(ScheduledMessage.status) == CLAIMED,
            col(ScheduledMessage.claimed_by) == me,
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0) == 1


async def finish(
    session: AsyncSession, *, row_id: int, me: str, status: str, detail: str, now: datetime
) -> bool:
    """Marks our claimed row sent, skipped or failed, with a detail for the log and /schedule."""
    res = await session.execute(
        update(ScheduledMessage)
        .where(col(ScheduledMessage.id) == row_id, col(ScheduledMessage.claimed_by) == me)
        .values(status=status, done_at=now, detail=detail[:DETAIL_MAX])
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0) == 1


async def release(session: AsyncSession, *, row_id: int, me: str, due_at: datetime) -> bool:
    """Hands our claimed row back as pending with a new due time (a repeating check)."""
    res = await session.execute(
        update(ScheduledMessage)
        .where(col(ScheduledMessage.id) == row_id, col(ScheduledMessage.claimed_by) == me)
        .values(status=PENDING, due_at=due_at, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0) == 1


async def reserve(
    session: AsyncSession, *, row_id: int, participant_ids: Sequence[int], now: datetime
) -> set[int]:
    """Inserts delivery rows; returns the participants that were not reserved before."""
    if not participant_ids:
        return set()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Delivery)
        .values(
            [
                {"scheduled_message_id": row_id, "participant_id": p, "sent_at": now}
                for p in participant_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["scheduled_message_id", "participant_id"])
        .returning(col(Delivery.participant_id))
    )
    res = await session.execute(stmt)
    return {int(p) for p in res.scalars()}


async def delivered(session: AsyncSession, *, row_id: int) -> set[int]:
    """Returns the participants a row was delivered (or reserved) to."""
    res = await session.execute(
        select(col(Delivery.participant_id)).where(col(Delivery.scheduled_message_id) == row_id)
    )
    return {int(p) for p in res.scalars()}

"""Row locks taken in one order (PostgreSQL; SQLite has one writer and renders no FOR UPDATE).

A person's participant row first, then runs in id order: a start, /delete_me, a reset, a purge
and /teams all lock in this order, so two of them at once wait for each other instead of
deadlocking. A group's own lock (lock_chat) serialises opening and closing its workshops.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Participant, Run


async def lock_participant(session: AsyncSession, *, participant_id: int) -> None:
    """Locks the participant's row until the transaction ends (PostgreSQL; SQLite has one writer).

    Whatever changes a person's runs as a whole takes this lock first, so two such changes of one
    person wait for each other instead of missing each other's runs or deadlocking.
    """
    await session.execute(
        select(col(Participant.id)).where(col(Participant.id) == participant_id).with_for_update()
    )


async def lock_runs(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    """Locks the runs matching `where` in id order until the transaction ends (PostgreSQL).

    Whatever changes many runs of a workshop at once (a reset, a purge, /teams) locks them in
    the same order first, so two such changes wait for each other instead of deadlocking.
    """
    ordered = select(col(Run.id)).where(*where).order_by(col(Run.id))
    await session.execute(ordered.with_for_update())


async def lock_chat(session: AsyncSession, *, chat_id: int) -> None:
    """Holds the group's lock until the transaction ends (PostgreSQL; SQLite has one writer).

    Opening or reopening a group's workshop reads its newest one and decides on that: two such
    commands at once (two admins, one poll) take this first, so the later one sees the earlier
    one's workshop instead of opening a second one beside it. Groups' chat ids are negative,
    so the key never meets the migration's lock (storage.migrate).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(chat_id)))

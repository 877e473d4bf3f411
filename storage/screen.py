"""The presenter page's state of a workshop: revocation epoch, reveal flag, change marker."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Result, Run, Workshop
from storage.runs import FINISHED


async def revoke_screens(session: AsyncSession, *, workshop_id: int) -> int:
    """Raises the workshop's screen epoch (every earlier link is refused); returns the new one."""
    await session.execute(
        update(Workshop)
        .where(col(Workshop.id) == workshop_id)
        .values(screen_epoch=col(Workshop.screen_epoch) + 1)
    )
    res = await session.execute(
        select(col(Workshop.screen_epoch)).where(col(Workshop.id) == workshop_id)
    )
    return int(res.scalar_one())


async def set_revealed(session: AsyncSession, *, workshop_id: int, revealed: bool) -> None:
    """Shows or hides the results on the workshop's presenter page."""
    await session.execute(
        update(Workshop).where(col(Workshop.id) == workshop_id).values(screen_revealed=revealed)
    )


async def screen_marker(session: AsyncSession, *, workshop_id: int) -> tuple[Any, ...] | None:
    """Returns a tuple that changes whenever the presenter page of the workshop would.

    One indexed query: the workshop's own fields and the count of its runs, finished runs,
    the last finish and the team assignment. Answers in progress do not change it, so a
    crowd tapping through the questions costs the page nothing. None if there is no workshop.
    """
    runs = col(Run.workshop_id) == workshop_id
    finished = runs & (col(Run.status) == FINISHED)
    query = select(
        col(Workshop.status),
        col(Workshop.title),
        col(Workshop.code),
        col(Workshop.screen_epoch),
        col(Workshop.screen_revealed),
        col(Workshop.purged_at),
        select(func.count()).where(runs).scalar_subquery(),
        select(func.count()).where(finished).scalar_subquery(),
        select(func.max(col(Run.finished_at))).where(finished).scalar_subquery(),
        select(func.count(col(Run.team))).where(runs).scalar_subquery(),
        select(func.sum(col(Run.team))).where(runs).scalar_subquery(),
    ).where(col(Workshop.id) == workshop_id)
    row = (await session.execute(query)).first()
    return None if row is None else tuple(row)


async def latest_workshop_created_by(session: AsyncSession, *, user_id: int) -> Workshop | None:
    """Returns the newest workshop this Telegram user opened (for commands given privately)."""
    res = await session.execute(
        select(Workshop)
        .where(col(Workshop.created_by) == user_id)
        .order_by(col(Workshop.id).desc())
        .limit(1)
    )
    return res.scalar_one_or_none()


async def team_types(session: AsyncSession, *, workshop_id: int) -> list[tuple[int, str]]:
    """Returns (team, main type) of every run /teams placed in a team, as it placed them.

    Runs, not participants: someone who answers again afterwards gets a new run without a
    team, and their team's mix stays the one /teams posted (a mix that followed them would
    change by one person, and tell the room their old type).
    """
    res = await session.execute(
        select(col(Run.team), col(Result.main_type))
        .join(Result, col(Result.run_id) == col(Run.id))
        .where(col(Run.workshop_id) == workshop_id, col(Run.team).is_not(None))
    )
    return [(team, main_type) for team, main_type in res.all() if team is not None]

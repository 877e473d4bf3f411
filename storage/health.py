"""Queries for the health check, the metrics and the start-up self-check."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Run, Workshop
from storage.runs import FINISHED
from storage.workshops import OPEN


async def count_finished_participants(session: AsyncSession) -> int:
    """Returns how many participants finished at least one questionnaire run."""
    res = await session.execute(
        select(func.count(distinct(col(Run.participant_id)))).where(col(Run.status) == FINISHED)
    )
    return int(res.scalar_one())


async def open_workshop_chats(session: AsyncSession) -> list[int]:
    """Returns the group chat ids that have an open workshop."""
    res = await session.execute(
        select(col(Workshop.chat_id)).where(col(Workshop.status) == OPEN).distinct()
    )
    return sorted(int(c) for c in res.scalars())

"""Queries about workshops (web sessions of a group)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Workshop

OPEN = "open"
CLOSED = "closed"


async def get_workshop(session: AsyncSession, *, workshop_id: int) -> Workshop | None:
    """Returns the workshop with this id."""
    return await session.get(Workshop, workshop_id)


async def get_workshop_by_code(session: AsyncSession, *, code: str) -> Workshop | None:
    """Returns the workshop with this join code."""
    res = await session.execute(select(Workshop).where(Workshop.code == code))  # type: ignore[arg-type]
    return res.scalar_one_or_none()


async def mark_live_dirty(session: AsyncSession, *, workshop_id: int) -> None:
    """Flags the workshop's live message for the next combined edit."""
    await session.execute(
        update(Workshop).where(Workshop.id == workshop_id).values(live_dirty=True)  # type: ignore[arg-type]
    )

"""Queries about workshops (what a group's /session opens)."""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import Workshop
from storage.types import storable, utcnow

OPEN = "open"
CLOSED = "closed"


async def get_workshop(session: AsyncSession, *, workshop_id: int) -> Workshop | None:
    """Returns the workshop with this id."""
    return await session.get(Workshop, workshop_id)


async def get_workshop_by_code(session: AsyncSession, *, code: str) -> Workshop | None:
    """Returns the workshop with this join code."""
    res = await session.execute(select(Workshop).where(col(Workshop.code) == code))
    return res.scalar_one_or_none()


async def mark_live_dirty(session: AsyncSession, *, workshop_id: int) -> None:
    """Flags the workshop's live message for the next combined edit."""
    await session.execute(
        update(Workshop).where(col(Workshop.id) == workshop_id).values(live_dirty=True)
    )


def new_code() -> str:
    """Returns a short unguessable join code (about 48 bits, URL- and deep-link-safe)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(9))


async def create_workshop(
    session: AsyncSession, *, chat_id: int, title: str, created_by: int
) -> Workshop:
    """Opens a new workshop for a group with a fresh join code."""
    workshop = Workshop(
        code=new_code(), chat_id=chat_id, title=storable(title, 200), created_by=created_by
    )
    session.add(workshop)
    await session.flush()
    return workshop


async def current_workshop(session: AsyncSession, *, chat_id: int) -> Workshop | None:
    """Returns the group's newest workshop (open or closed), if any."""
    res = await session.execute(
        select(Workshop)
        .where(col(Workshop.chat_id) == chat_id)
        .order_by(col(Workshop.id).desc())
        .limit(1)
    )
    return res.scalar_one_or_none()


async def set_status(session: AsyncSession, *, workshop: Workshop, status: str) -> None:
    """Opens or closes a workshop."""
    workshop.status = status
    workshop.closed_at = utcnow() if status == CLOSED else None
    workshop.live_dirty = True
    session.add(workshop)


async def open_workshops(session: AsyncSession, *, limit: int = 20) -> list[Workshop]:
    """Returns open workshops, newest first (at most limit)."""
    res = await session.execute(
        select(Workshop)
        .where(col(Workshop.status) == OPEN)
        .order_by(col(Workshop.id).desc())
        .limit(limit)
    )
    return list(res.scalars())


async def move_chat(session: AsyncSession, *, old_chat_id: int, new_chat_id: int) -> int:
    """Moves a group's workshops to its new chat id (group upgraded to supergroup)."""
    res = await session.execute(
        update(Workshop)
        .where(col(Workshop.chat_id) == old_chat_id)
        .values(chat_id=new_chat_id, live_dirty=True)
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def dirty_workshops(session: AsyncSession, *, limit: int = 200) -> list[Workshop]:
    """Returns workshops whose live message waits for an edit, oldest first."""
    res = await session.execute(
        select(Workshop)
        .where(col(Workshop.live_dirty).is_(True))
        .order_by(col(Workshop.id))
        .limit(limit)
    )
    return list(res.scalars())


async def claim_live(session: AsyncSession, *, workshop_id: int) -> bool:
    """Clears the dirty flag if still set; True for the one caller that cleared it."""
    res = await session.execute(
        update(Workshop)
        .where(col(Workshop.id) == workshop_id, col(Workshop.live_dirty).is_(True))
        .values(live_dirty=False)
    )
    return bool(getattr(res, "rowcount", 0))


async def set_live(
    session: AsyncSession, *, workshop_id: int, message_id: int | None, text: str | None
) -> None:
    """Remembers the live message of a workshop and the text it shows."""
    await session.execute(
        update(Workshop)
        .where(col(Workshop.id) == workshop_id)
        .values(live_message_id=message_id, live_text=text)
    )

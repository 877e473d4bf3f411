"""The one way tests and benchmarks open the bot's database beside the bot: open, use, dispose."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.migrate import migrate


@asynccontextmanager
async def opened(url: str, *, migrated: bool = False) -> AsyncIterator[Database]:
    """Yields a Database on url (migrated to head if asked) and disposes of it afterwards.

    A test looks at the rows a bot wrote through its own engine: its pool must not outlive the
    test (a leaked connection keeps a PostgreSQL database from being dropped).
    """
    db = Database(url)
    try:
        if migrated:
            await migrate(db)
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def reading(url: str) -> AsyncIterator[AsyncSession]:
    """A read session on url, for one look at the rows."""
    async with opened(url) as db, db.read() as session:
        yield session


@asynccontextmanager
async def writing(url: str, *, migrated: bool = False) -> AsyncIterator[AsyncSession]:
    """A write transaction on url (committed on leaving), for setting the scene."""
    async with opened(url, migrated=migrated) as db, db.write() as session:
        yield session

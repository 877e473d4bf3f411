"""SQLite commits are synced to disk before the bot acknowledges an update (synchronous=FULL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from tests.support.database import opened

FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


async def test_every_sqlite_connection_syncs_each_commit(tmp_path: Path) -> None:
    async with opened(f"sqlite+aiosqlite:///{tmp_path / 'durable.sqlite'}") as db:

        def level(conn: Connection) -> int:
            return int(conn.execute(text("PRAGMA synchronous")).scalar_one())

        async with db.write_engine.connect() as conn:
            assert await conn.run_sync(level) == FULL
        async with db.read_engine.connect() as conn:
            assert await conn.run_sync(level) == FULL

        def in_thread(session: Session) -> int:
            return int(session.execute(text("PRAGMA synchronous")).scalar_one())

        assert await db.write_sync(in_thread) == FULL  # the tap path's writer thread
        assert await db.read_sync(in_thread) == FULL

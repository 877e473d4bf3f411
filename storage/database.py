"""Async engine and session factory: SQLite (embedded, default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000


class Database:
    """Owns the engines; hands out one AsyncSession per handler or task."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        if self.is_sqlite:
            # Two engines on one file: writes start with BEGIN IMMEDIATE (so a read-then-write
            # transaction waits for the lock instead of failing), reads stay deferred under WAL.
            self.write_engine = _sqlite_engine(url, immediate=True, echo=echo)
            self.read_engine = _sqlite_engine(url, immediate=False, echo=echo)
        else:
            self.write_engine = create_async_engine(
                url, echo=echo, pool_size=20, max_overflow=20, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._write = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one writer at a time. Queueing writers here, first come first served, beats
        # SQLite's busy handler, which polls with sleeps and can starve a waiter past its timeout
        # when dozens of handlers write at once. Other processes still wait via busy_timeout.
        self._writer_lock = asyncio.Lock() if self.is_sqlite else None
        self._writer: asyncio.Task[Any] | None = None

    @property
    def is_sqlite(self) -> bool:
        """Tells whether this is the embedded SQLite database."""
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Yields a session in a write transaction, committed on success, rolled back on error."""
        lock = self._writer_lock
        if lock is None or self._writer is asyncio.current_task():
            async with self._write() as session, session.begin():
                yield session
            return
        async with lock:
            self._writer = asyncio.current_task()
            try:
                async with self._write() as session, session.begin():
                    yield session
            finally:
                self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yields a session for reading only."""
        async with self._read() as session:
            yield session

    async def ping(self) -> bool:
        """Tells whether the database answers."""
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not reachable" to a health check
            log.warning("database ping failed", exc_info=True)
            return False
        return True

    async def dispose(self) -> None:
        """Closes all pooled connections."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, echo: bool) -> AsyncEngine:
    # Reads run statement by statement in autocommit (each SELECT sees one consistent snapshot
    # under WAL): no BEGIN and no ROLLBACK round trips through aiosqlite's thread per request.
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": 30},
        pool_reset_on_return="rollback" if immediate else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    if immediate:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

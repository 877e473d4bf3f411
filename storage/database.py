"""Async engine and session factory: SQLite (embedded, default) or PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_READERS = 2  # threads for read_sync on SQLite
# The webhook answers Telegram 200 only after the handler's transaction committed, and Telegram
# then forgets the update: a commit must survive a power cut, not only a crash of the process.
# WAL with synchronous=NORMAL may lose the last commits on power loss; FULL syncs the WAL at
# every commit (docs/security.md, "Durability"; cost in bench/bench_durability.py).
SQLITE_SYNCHRONOUS = "FULL"

T = TypeVar("T")


# What a database URL may be written as. Users paste what their hosting shows or what another
# program used: a plain `sqlite:///file`, `postgres://` from a managed service, a libpq query
# (`?sslmode=require`). The engines need an async driver and the driver's own parameters.
URL_FORMS = "sqlite:///dteam.sqlite (a file) or postgresql://user:password@host:5432/dbname"
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite", "sqlite+aiosqlite"}
_POSTGRES_SCHEMES = {"postgres", "postgresql"}
_TO_ASYNCPG = {"", "psycopg2", "psycopg2cffi", "pg8000", "asyncpg"}
_ASYNC_POSTGRES_DRIVERS = {"psycopg": "psycopg", "psycopg_async": "psycopg"}  # driver: module
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
# libpq query parameters and what asyncpg makes of them.
_ASYNCPG_KEEPS = {"ssl", "target_session_attrs", "prepared_statement_cache_size", "krbsrvname"}
_ASYNCPG_IGNORES = {"application_name", "fallback_application_name", "connect_timeout"}
_ASYNCPG_FROM_ENV = {
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
}


class DatabaseUrlError(ValueError):
    """The database URL cannot be used; the message (one line) says what to write instead."""


def async_database_url(url: str) -> str:
    """Returns url in the async driver's form: sqlite+aiosqlite or postgresql+asyncpg.

    Accepts `sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://`, `postgres://`,
    sync driver names (psycopg2, pg8000, pysqlite) and the async forms themselves; translates
    libpq's `sslmode` into asyncpg's `ssl`. Raises DatabaseUrlError for anything else.
    """
    cleaned = url.strip().strip("\"'").strip()
    try:
        parsed = make_url(cleaned)
    except ArgumentError:
        raise DatabaseUrlError(f"not a database URL; write {URL_FORMS}") from None
    scheme, _, driver = parsed.drivername.partition("+")
    if parsed.drivername in _SQLITE_DRIVERS:
        return _render(parsed.set(drivername="sqlite+aiosqlite"))
    if scheme not in _POSTGRES_SCHEMES:
        raise DatabaseUrlError(f"{parsed.drivername}:// is not supported; write {URL_FORMS}")
    if driver in _ASYNC_POSTGRES_DRIVERS:
        if importlib.util.find_spec(_ASYNC_POSTGRES_DRIVERS[driver]) is None:
            plain = _render(parsed.set(drivername="postgresql"))
            raise DatabaseUrlError(
                f"the driver {driver} is not installed; write {_hide(plain)} "
                "(the bot uses asyncpg)"
            )
        return _render(parsed.set(drivername=f"postgresql+{driver}"))
    if driver not in _TO_ASYNCPG:
        raise DatabaseUrlError(
            f"the driver {driver} is not supported; write postgresql://user:password@host/dbname"
        )
    return _render(_asyncpg_query(parsed.set(drivername="postgresql+asyncpg")))


def _asyncpg_query(url: URL) -> URL:
    query: dict[str, str | tuple[str, ...]] = {}
    for key, value in url.query.items():
        last = value if isinstance(value, str) else value[-1]
        if key in ("sslmode", "ssl"):
            mode = {"true": "require", "false": "disable"}.get(last.lower(), last.lower())
            if mode not in _SSL_MODES:
                raise DatabaseUrlError(
                    f"{key}={last} is not an SSL mode; use one of {', '.join(sorted(_SSL_MODES))}"
                )
            if key == "ssl" or "ssl" not in url.query:  # an explicit ssl= wins
                query["ssl"] = mode
        elif key == "channel_binding" and last in ("prefer", "disable"):
            log.info("database URL: channel_binding=%s ignored (asyncpg has none)", last)
        elif key in _ASYNCPG_IGNORES:
            log.info("database URL: %s ignored (asyncpg has no such setting)", key)
        elif key in _ASYNCPG_FROM_ENV:
            raise DatabaseUrlError(
                f"asyncpg does not read {key} from the URL; remove it and set the environment "
                f"variable {_ASYNCPG_FROM_ENV[key]}={last} instead"
            )
        elif key in _ASYNCPG_KEEPS:
            query[key] = value
        else:
            raise DatabaseUrlError(
                f"asyncpg does not understand ?{key}=; remove it (TLS: ?sslmode=require)"
            )
    return url.set(query=query)


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _hide(url: str) -> str:
    """The URL with its password replaced by ***, for messages."""
    return make_url(url).render_as_string(hide_password=True)


class ReadOnlyDatabase(Exception):
    """The database answers but accepts no writes."""


class NestedWriteError(RuntimeError):
    """write_sync was called by a task that already holds the SQLite write lock."""


class Database:
    """Owns the engines; hands out one AsyncSession per handler or task."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        url = async_database_url(url)
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
        # The tap path (read_sync/write_sync) on a SQLite file: a whole transaction in one hop
        # to a thread with a plain sqlite3 connection. Through aiosqlite every statement, BEGIN
        # and COMMIT is a round trip via the event loop, and a busy loop makes each one slow
        # while the write lock is held; that serialised all writers (see bench_journey).
        self._threads: _SqliteThreads | None = None
        if self.is_sqlite and (make_url(url).database or ":memory:") != ":memory:":
            self._threads = _SqliteThreads(url, echo=echo)

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

    async def read_sync(self, fn: Callable[[Session], T]) -> T:
        """Runs fn with a reading Session and returns what it returns (one hop on SQLite)."""
        if self._threads is not None:
            return await self._threads.read(fn)
        async with self._read() as session:
            return await session.run_sync(fn)

    async def write_sync(self, fn: Callable[[Session], T]) -> T:
        """Runs fn in one write transaction: committed if it returns, rolled back if it raises.

        For short transactions on the hot path: on SQLite the whole transaction is one hop to
        the writer thread, queued with write() in the same first-come-first-served order.
        """
        if self._threads is None:
            async with self.write() as session:
                return await session.run_sync(fn)
        lock = self._writer_lock
        assert lock is not None
        if self._writer is asyncio.current_task():
            raise NestedWriteError("write_sync inside write(): SQLite would wait for itself")
        async with lock:
            job = asyncio.ensure_future(self._threads.write(fn))
            try:
                return await asyncio.shield(job)
            finally:
                if not job.done():  # cancelled: hold the lock until the thread is done
                    await asyncio.wait({job})

    async def ping(self) -> bool:
        """Tells whether the database answers."""
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not reachable" to a health check
            log.warning("database ping failed", exc_info=True)
            return False
        return True

    async def check_writable(self) -> None:
        """Raises the driver's error unless a write transaction can be opened and used.

        SQLite: BEGIN IMMEDIATE and a table created and rolled back (a read-only file opens
        and reads fine, and fails only at the first write). PostgreSQL: a server or role
        that is read-only (a standby, default_transaction_read_only) raises ReadOnlyDatabase.
        """
        async with self.write_engine.connect() as conn:
            if self.is_sqlite:
                async with conn.begin() as transaction:
                    await conn.execute(text("CREATE TABLE dteam_write_probe (x INTEGER)"))
                    await transaction.rollback()
                return
            read_only = await conn.scalar(text("SHOW transaction_read_only"))
            await conn.rollback()
        if read_only == "on":
            raise ReadOnlyDatabase("the database accepts no writes (transaction_read_only)")

    async def dispose(self) -> None:
        """Closes all pooled connections."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
        if self._threads is not None:
            self._threads.close()


class _SqliteThreads:
    """Plain sqlite3 connections owned by threads: one writer, a few readers."""

    def __init__(self, url: str, *, echo: bool) -> None:
        sync_url = make_url(url).set(drivername="sqlite+pysqlite")
        self._write_engine = _sqlite_sync_engine(sync_url, immediate=True, echo=echo, size=1)
        self._read_engine = _sqlite_sync_engine(
            sync_url, immediate=False, echo=echo, size=SQLITE_READERS
        )
        self._write_session = sessionmaker(self._write_engine, expire_on_commit=False)
        self._read_session = sessionmaker(self._read_engine, expire_on_commit=False)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="sqlite-reader")

    async def read(self, fn: Callable[[Session], T]) -> T:
        def job() -> T:
            with self._read_session() as session:
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._readers, job)

    async def write(self, fn: Callable[[Session], T]) -> T:
        def job() -> T:
            with self._write_session() as session, session.begin():
                return fn(session)

        return await asyncio.get_running_loop().run_in_executor(self._writer, job)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self._write_engine.dispose()
        self._read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, echo: bool) -> AsyncEngine:
    # Reads run statement by statement in autocommit (each SELECT sees one consistent snapshot
    # under WAL): no BEGIN and no ROLLBACK round trips through aiosqlite's thread per request.
    engine = create_async_engine(
        url,
        echo=echo,
        connect_args={"timeout": 30},
        pool_reset_on_return="rollback" if immediate else None,
    )

    _configure_sqlite(engine.sync_engine, immediate=immediate)
    return engine


def _sqlite_sync_engine(url: Any, *, immediate: bool, echo: bool, size: int) -> Engine:
    # The connections are used by the executor's threads only, one at a time each; they are
    # closed from the event loop's thread at shutdown, hence check_same_thread=False.
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=size,
        max_overflow=0,
        pool_reset_on_return="rollback" if immediate else None,
    )
    _configure_sqlite(engine, immediate=immediate)
    return engine


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        cur.close()

    if immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

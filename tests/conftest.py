"""Fixtures shared by all tests: database URLs for SQLite files and a real PostgreSQL."""

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage.database import Database
from tests.support.database import opened

POSTGRES_URL_VAR = "DTEAM_TEST_POSTGRES_URL"

# As `dteam` does at start-up: PTB's RetryAfter.retry_after becomes a timedelta (no warning).
os.environ.setdefault("PTB_TIMEDELTA", "1")


@pytest.fixture(autouse=True)
def _stand_in_never_fails_inside(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test fails if the in-process stand-in broke while serving a request.

    The stand-in answers its own failures like Telegram's 500; without this check a bug in it
    looks like a slow or lost reply and surfaces only as a timeout far from its cause.
    """
    yield
    broken = [
        record.getMessage()
        for when in ("setup", "call")
        for record in caplog.get_records(when)
        if record.name == "sandbox.server" and record.levelno >= logging.ERROR
    ]
    if broken:
        pytest.fail(f"the stand-in failed inside: {broken[:3]}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The admin database URL of the PostgreSQL server that scripts/test started."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{POSTGRES_URL_VAR} is not set in CI: run the tests through scripts/test")
    pytest.skip(f"{POSTGRES_URL_VAR} is not set: run scripts/test to test against PostgreSQL")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite file in the test's temporary directory."""
    return f"sqlite+aiosqlite:///{tmp_path / 'dteam.sqlite'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The database at database_url, migrated to head, disposed of after the test."""
    async with opened(database_url, migrated=True) as database:
        yield database


def _with_database(url: str, name: str, *, driver: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0] + driver
    return urlunsplit((scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'dteam.sqlite'}"
        return
    admin_url = request.getfixturevalue("postgres_url")
    admin_dsn = _with_database(admin_url, urlsplit(admin_url).path.lstrip("/"), driver="")
    name = f"dteam_t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield _with_database(admin_url, name, driver="+asyncpg")
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            # FORCE: a test that leaked a connection must not keep its database alive.
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

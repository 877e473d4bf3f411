"""Applies the alembic migrations in storage/migrations at start-up."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.database import Database

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"
_PG_LOCK_ID = 0x07E4D7EA  # advisory lock: replicas starting together migrate one at a time


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """Returns the newest migration's revision id."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
    command.upgrade(_config(connection), "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(db: Database) -> str:
    """Upgrades the schema to the newest revision and returns it."""
    async with db.write_engine.begin() as conn:
        await conn.run_sync(_upgrade)
    rev = await current_revision(db)
    log.info("database schema at revision %s", rev)
    return rev or ""


async def current_revision(db: Database) -> str | None:
    """Returns the schema revision the database is at (None when never migrated)."""
    async with db.read_engine.connect() as conn:
        return await conn.run_sync(_current)

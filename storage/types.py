"""Column types shared by the tables, and the primary key of a stored row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them UTC-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuses naive datetimes and converts aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        """Returns an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Returns the current time, UTC-aware."""
    return datetime.now(UTC)


class Stored(Protocol):
    """A table row: its id is None until the row is flushed to the database."""

    @property
    def id(self) -> int | None: ...


def pk(row: Stored) -> int:
    """Returns the primary key of a stored row; raises if the row was never flushed."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no primary key yet: it was never flushed")
    return row.id


def storable(text: str, limit: int) -> str:
    """Returns a text a person chose (a name, a title) as both databases store it, cut to limit.

    PostgreSQL's text types cannot hold the NUL character; a name or title with one made
    every write of that person fail (and a webhook ask for the update again, forever).
    """
    return text.replace("\x00", "")[:limit]

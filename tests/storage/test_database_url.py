"""async_database_url: what people paste becomes the async driver's form, or one clear line."""

from __future__ import annotations

import pytest

from storage.database import DatabaseUrlError, async_database_url


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("sqlite:///rel.db", "sqlite+aiosqlite:///rel.db"),
        ("sqlite:////srv/dteam/abs.db", "sqlite+aiosqlite:////srv/dteam/abs.db"),
        ("sqlite+pysqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        (' "sqlite:///quoted.db"\n', "sqlite+aiosqlite:///quoted.db"),  # docker env_file keeps ""
        ("postgresql://u:pw@db:5432/dteam", "postgresql+asyncpg://u:pw@db:5432/dteam"),
        ("postgres://u:pw@db/dteam", "postgresql+asyncpg://u:pw@db/dteam"),
        ("postgresql+asyncpg://u:pw@db/dteam", "postgresql+asyncpg://u:pw@db/dteam"),
        ("postgresql+psycopg2://u:pw@db/dteam", "postgresql+asyncpg://u:pw@db/dteam"),
        ("postgres://u:p%40ss@db/d", "postgresql+asyncpg://u:p%40ss@db/d"),  # escaped password
        # libpq's parameters, as managed services write them, in asyncpg's words
        ("postgres://u@db/d?sslmode=require", "postgresql+asyncpg://u@db/d?ssl=require"),
        ("postgres://u@db/d?sslmode=verify-full", "postgresql+asyncpg://u@db/d?ssl=verify-full"),
        ("postgres://u@db/d?ssl=true", "postgresql+asyncpg://u@db/d?ssl=require"),
        (
            "postgres://u@db/d?ssl=disable&sslmode=require",
            "postgresql+asyncpg://u@db/d?ssl=disable",
        ),
        (
            "postgres://u@db/d?sslmode=require&channel_binding=prefer&application_name=x",
            "postgresql+asyncpg://u@db/d?ssl=require",
        ),
        (
            "postgres://u@db/d?target_session_attrs=read-write",
            "postgresql+asyncpg://u@db/d?target_session_attrs=read-write",
        ),
    ],
)
def test_pasted_forms_become_the_async_form(pasted: str, expected: str) -> None:
    assert async_database_url(pasted) == expected
    assert async_database_url(expected) == expected  # idempotent


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("mysql://u:pw@db/dteam", "postgresql://user:password@host"),
        ("mssql+pyodbc://db/dteam", "sqlite:///dteam.sqlite"),
        ("dteam.sqlite", "not a database URL"),
        ("", "not a database URL"),
        ("postgresql+psycopg://u:secret@db/d", "postgresql://u:***@db/d"),
        ("postgresql+pg9000://u@db/d", "postgresql://"),
        ("postgres://u@db/d?sslmode=required", "verify-full"),
        ("postgres://u@db/d?sslrootcert=/etc/ca.pem", "PGSSLROOTCERT=/etc/ca.pem"),
        ("postgres://u@db/d?channel_binding=require", "channel_binding"),
        ("postgres://u@db/d?options=-csearch_path%3Dx", "options"),
    ],
)
def test_anything_else_is_one_line_saying_what_to_write(pasted: str, says: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        async_database_url(pasted)
    message = str(info.value)
    assert says in message
    assert "\n" not in message
    assert "secret" not in message

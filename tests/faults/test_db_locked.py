"""The SQLite database locked by another process longer than the bot's busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from storage.database import SQLITE_BUSY_TIMEOUT_MS
from tests.faults.harness import (
    BotSubprocess,
    answered,
    make_sandbox,
    make_world,
    open_session,
    stored_runs,
    walkers,
)

N = 12
TOLD = "Ich konnte das gerade nicht speichern"  # errors.database (de)
HOLD = SQLITE_BUSY_TIMEOUT_MS / 1000 + 3


def _hold_exclusive(path: Path, seconds: float) -> None:
    """Holds BEGIN EXCLUSIVE from a separate sqlite3 connection (another process's view)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_locked_database_never_loses_an_answer_silently(
    webhook: bool, tmp_path: Path
) -> None:
    path = tmp_path / "dteam.sqlite"
    url = f"sqlite+aiosqlite:///{path}"
    server = make_sandbox()
    await server.start()
    make_world(server)
    bot = BotSubprocess(server, url, tmp_path / "bot.log", webhook=webhook)
    try:
        await bot.start()
        code = await open_session(server)
        # Patience beyond the test: nobody taps again on mere silence, only when told to.
        people = walkers(server, code, N, first=70_000, patience=120.0)
        for person in people:
            person.retry_on = TOLD
        crowd = asyncio.gather(*(w.walk() for w in people))
        await answered(people, 0.3)
        await asyncio.to_thread(_hold_exclusive, path, HOLD)
        await asyncio.wait_for(crowd, 120)
    finally:
        await bot.stop()
        await server.stop()
    stored = await stored_runs(url, [w.user_id for w in people])
    for person in people:
        assert stored[person.user_id].finished == 1, person.user_id
        assert stored[person.user_id].answers == person.sheet, person.user_id
    told = [m for w in people for m in server.messages(w.user_id) if TOLD in m.body]
    retried = sum(w.retries for w in people)
    log = bot.log_text()
    assert "unhandled error" not in log
    assert "database error" in log  # the lock was felt
    if webhook:
        # Telegram re-delivers what failed: nobody needs to be told, nobody taps again.
        assert (told, retried) == ([], 0)
    else:
        # Polling cannot get an update back: each failed tap is answered with a request to
        # tap again, and only that made anyone tap again.
        assert told
        assert retried == len(told)
    print(f"\n{'webhook' if webhook else 'polling'}: lock {HOLD:.0f} s, told {len(told)}")  # noqa: T201

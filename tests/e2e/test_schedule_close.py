"""The automatic close is marked sent only once the close is saved; a failed save is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.settings import Settings
from sandbox.server import BotApiServer
from storage.models import Workshop
from tests.e2e.harness import Person, make_settings
from tests.e2e.schedule_helpers import (
    END,
    GROUP,
    MODERATOR,
    SCHEDULE,
    FakeClock,
    add_group,
    count,
    hand_swept_clock,
    live_bot,
    make_workshop,
    rows,
    run_sweep,
)
from tests.support.database import reading, writing


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return hand_swept_clock(monkeypatch)


@pytest.fixture
def settings(sandbox: BotApiServer, database_url: str) -> Settings:
    add_group(sandbox)
    return make_settings(sandbox.root, database_url, moderators=str(MODERATOR))


async def status_of(database_url: str, workshop_id: int) -> str:
    async with reading(database_url) as session:
        workshop = await session.get(Workshop, workshop_id)
        assert workshop is not None
        return workshop.status


async def sql(database_url: str, statement: str) -> None:
    async with writing(database_url) as session:
        await session.execute(text(statement))


async def test_a_close_that_could_not_be_saved_is_tried_again(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the fault is a SQLite trigger")
    workshop = await make_workshop(database_url)
    assert workshop.id is not None
    ada = Person(sandbox, 2601, "Ada")
    async with live_bot(settings) as app:
        await ada.answer_all(await ada.join(workshop.code))
        mark = sandbox.mark()
        sandbox.send_text(MODERATOR, SCHEDULE, chat_id=GROUP)
        await sandbox.wait_for(
            lambda m: "Zeitplan" in (m.text or ""), 10, chat_id=GROUP, since=mark
        )
        # The disk refuses the close at the end of the session.
        await sql(
            database_url,
            "CREATE TRIGGER refuse_close BEFORE UPDATE OF status ON workshop "
            "WHEN NEW.status = 'closed' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
        )
        clock.set(END)
        await run_sweep(app)
        close = (await rows(database_url))["close"]
        assert close.status == "pending", close.detail  # not "sent": nothing was closed
        assert await status_of(database_url, workshop.id) == "open"
        await sql(database_url, "DROP TRIGGER refuse_close")
        clock.set(END + timedelta(minutes=2))
        await run_sweep(app)
        assert await run_sweep(app) == 0
    assert await status_of(database_url, workshop.id) == "closed"
    assert (await rows(database_url))["close"].status == "sent"
    assert count(sandbox, GROUP, "ist beendet") == 1

"""Helpers for timed-message tests: a fake clock, a bot whose Application is at hand, a group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update
from telegram.ext import Application

import bot.scheduler
import handlers.timeline.timed
from bot.runner import running_app
from bot.settings import Settings
from handlers.core.context import DTeamContext
from handlers.timeline.timed import sweep
from sandbox.server import BotApiServer
from storage.models import ScheduledMessage, Workshop
from storage.participants import get_or_create_participant, set_consent
from storage.runs import start_run
from storage.workshops import create_workshop
from tests.e2e.harness import TOKEN
from tests.support.database import reading, writing
from tests.support.groups import make_group

GROUP = -100777
MODERATOR = 9001
BOT_ID = int(TOKEN.split(":")[0])
# Far enough in the future that the JobQueue's real-time jobs never fire during a test.
T0 = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
START = datetime(2030, 1, 12, 16, 0, tzinfo=UTC)  # 17:00 in Berlin (CET)
END = START + timedelta(minutes=90)
SCHEDULE = "/schedule 12.01.2030 17:00 90m"

App = Application[Any, Any, Any, Any, Any, Any]


class FakeClock:
    """A now() source the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        """Moves the clock to when."""
        self.now = when


def hand_swept_clock(monkeypatch: pytest.MonkeyPatch, now: datetime = T0) -> FakeClock:
    """Installs a FakeClock as the timeline's now() and stops the bot's own sweeps.

    The test sweeps by hand; the bot's periodic sweep, and the one at start-up, would race it
    for the rows it counts.
    """
    fake = FakeClock(now)
    monkeypatch.setattr(handlers.timeline.timed, "utcnow", fake)
    monkeypatch.setattr(bot.scheduler, "SWEEP_SECONDS", 3600.0)
    monkeypatch.setattr(bot.scheduler, "FIRST_SWEEP_SECONDS", 3600.0)
    return fake


@asynccontextmanager
async def live_bot(settings: Settings, *, poll: bool = True) -> AsyncIterator[App]:
    """Runs the bot (running_app, optionally polling) and yields its Application."""
    async with running_app(settings) as app:
        if poll:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=1)
        yield app


async def run_sweep(app: App) -> int:
    """Runs the sweep of this 'process' once, as its periodic job would."""
    return await sweep(DTeamContext(app))


def add_group(sandbox: BotApiServer) -> None:
    """Creates the workshop group with the moderator as admin and the bot as member."""
    make_group(
        sandbox,
        GROUP,
        MODERATOR,
        bot_id=BOT_ID,
        title="Rathaus",
        moderator_name="Mo",
        moderator_status="administrator",
        bot_status="member",
    )


async def make_workshop(database_url: str, title: str = "Rathaus Nord") -> Workshop:
    """Opens a workshop in the group directly in the database (as /session would)."""
    async with writing(database_url, migrated=True) as session:
        return await create_workshop(session, chat_id=GROUP, title=title, created_by=MODERATOR)


async def add_joined(database_url: str, workshop_id: int, user_ids: list[int]) -> None:
    """Creates consenting participants with a run in the workshop (fast path for many)."""
    async with writing(database_url) as session:
        for uid in user_ids:
            person = await get_or_create_participant(
                session, telegram_id=uid, first_name=f"P{uid}", language="de"
            )
            await set_consent(session, participant=person)
            await start_run(
                session,
                participant_id=person.id,  # type: ignore[arg-type]
                workshop_id=workshop_id,
                questionnaire_version="1",
                language="de",
                first_item="g01",
            )


async def rows(database_url: str) -> dict[str, ScheduledMessage]:
    """Returns the scheduled rows by kind."""
    async with reading(database_url) as session:
        res = await session.execute(select(ScheduledMessage))
        return {r.kind: r for r in res.scalars()}


def texts_to(sandbox: BotApiServer, chat_id: int) -> list[str]:
    """Returns the texts (or captions) of the bot's messages in a chat, in order."""
    return [m.text or m.caption or "" for m in sandbox.messages(chat_id)]


def count(sandbox: BotApiServer, chat_id: int, needle: str) -> int:
    """Counts the bot's messages in a chat that contain needle."""
    return sum(needle in t for t in texts_to(sandbox, chat_id))

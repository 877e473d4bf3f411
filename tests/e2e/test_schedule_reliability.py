"""Timed messages with two bot processes on one database, dead claims, and Telegram's limits."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import col

from bot.settings import Settings
from handlers.timeline.timed import schedule_jobs
from sandbox.server import BotApiServer
from storage.models import Delivery, Participant, ScheduledMessage
from storage.schedule import replace_plan, reserve, set_timeline
from storage.workshops import get_workshop
from tests.e2e.harness import make_settings
from tests.e2e.schedule_helpers import (
    MODERATOR,
    SCHEDULE,
    START,
    FakeClock,
    add_group,
    add_joined,
    count,
    hand_swept_clock,
    live_bot,
    make_workshop,
    rows,
    run_sweep,
)
from tests.support.database import reading, writing

PEOPLE = list(range(3001, 3041))
REMINDER = "beginnt am"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return hand_swept_clock(monkeypatch)


@pytest.fixture
def settings(sandbox: BotApiServer, database_url: str) -> Settings:
    add_group(sandbox)
    for uid in PEOPLE:
        sandbox.add_user(uid, f"P{uid}")
        sandbox.world.private_chat(sandbox.world.user(uid))  # they talked to the bot before
        sandbox.bot_state().started.add(uid)
    return make_settings(sandbox.root, database_url, moderators=str(MODERATOR))


async def scheduled(sandbox: BotApiServer, database_url: str) -> None:
    """Opens a workshop with PEOPLE joined and schedules it through the group."""
    workshop = await make_workshop(database_url)
    await add_joined(database_url, workshop.id, PEOPLE)  # type: ignore[arg-type]
    mark = sandbox.mark()
    sandbox.send_text(MODERATOR, SCHEDULE, chat_id=-100777)
    await sandbox.wait_for(lambda _m: True, 10, chat_id=-100777, since=mark)


async def deliveries(database_url: str) -> int:
    async with reading(database_url) as s:
        return int((await s.execute(select(func.count()).select_from(Delivery))).scalar_one())


async def test_two_processes_send_each_reminder_exactly_once(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, database_url: str
) -> None:
    async with live_bot(settings) as first, live_bot(settings, poll=False) as second:
        await scheduled(sandbox, database_url)
        clock.set(START - timedelta(days=1))
        won = await asyncio.gather(*(run_sweep(app) for app in (first, second) * 3))
        clock.set(START - timedelta(minutes=15))
        won += await asyncio.gather(*(run_sweep(app) for app in (second, first) * 3))
    assert sum(won) == 2  # one claim per row, whichever process got there first
    for uid in PEOPLE:
        assert count(sandbox, uid, REMINDER) == 1
        assert count(sandbox, uid, "in 15 Minuten") == 1
    assert await deliveries(database_url) == 2 * len(PEOPLE)


async def test_a_dead_process_claim_is_taken_over_without_doubles(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, database_url: str
) -> None:
    async with live_bot(settings) as app:
        await scheduled(sandbox, database_url)
        clock.set(START - timedelta(days=1))
        row = (await rows(database_url))["remind_day"]
        async with writing(database_url) as s:
            # Another process claimed the row, sent to the first half, then died.
            await s.execute(
                update(ScheduledMessage)
                .where(col(ScheduledMessage.id) == row.id)
                .values(status="claimed", claimed_by="dead", claimed_at=clock.now)
            )
            ids = (
                await s.execute(select(col(Participant.id)).order_by(col(Participant.id)))
            ).scalars()
            assert row.id is not None
            first_half = [pid for pid in ids if pid is not None][:20]
            await reserve(s, row_id=row.id, participant_ids=first_half, now=clock.now)
        assert await run_sweep(app) == 0  # a fresh claim is respected
        clock.set(clock.now + timedelta(minutes=6))
        assert await run_sweep(app) == 1  # a claim silent for longer than 5 minutes is not
    got = [count(sandbox, uid, REMINDER) for uid in PEOPLE]
    assert got == [0] * 20 + [1] * 20
    done = (await rows(database_url))["remind_day"]
    assert done.status == "sent"
    assert "already had it 20" in (done.detail or "")


async def test_broadcast_is_paced_below_the_flood_limit(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, database_url: str
) -> None:
    async with live_bot(settings) as app:
        await scheduled(sandbox, database_url)
        sandbox.set_limits(True)
        clock.set(START - timedelta(days=1))
        began = time.monotonic()
        await run_sweep(app)
        took = time.monotonic() - began
    assert all(count(sandbox, uid, REMINDER) == 1 for uid in PEOPLE)
    assert sandbox.stats()["status_429"] == 0
    assert took >= (len(PEOPLE) - 1) / 25 * 0.9  # spread out, not a burst


async def test_the_jobqueue_fires_a_row_at_its_due_time(
    sandbox: BotApiServer, settings: Settings, database_url: str
) -> None:
    workshop = await make_workshop(database_url)
    assert workshop.id is not None
    await add_joined(database_url, workshop.id, PEOPLE[:3])
    now = datetime.now(UTC)
    starts_at = now + timedelta(minutes=15, seconds=1)
    async with live_bot(settings, poll=False) as app:
        async with writing(database_url) as s:
            found = await get_workshop(s, workshop_id=workshop.id)
            assert found is not None
            end = starts_at + timedelta(hours=1)
            await set_timeline(s, workshop=found, starts_at=starts_at, ends_at=end, settings={})
            created = await replace_plan(
                s, workshop_id=workshop.id, items=[("remind_soon", now + timedelta(seconds=1))]
            )
        schedule_jobs(app.job_queue, created)
        for uid in PEOPLE[:3]:
            await sandbox.wait_for(lambda m: "in 15 Minuten" in (m.text or ""), 10, chat_id=uid)
    assert (await rows(database_url))["remind_soon"].status == "sent"

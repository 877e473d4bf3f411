"""Retention end to end: past its date, the database holds no personal data of a session.

The bot runs against the stand-in with a clock the test moves; the retention sweep is the one
the bot's JobQueue runs every DTEAM_RETENTION_SWEEP_MINUTES. The verdict reads every row of
every table and looks for the participants' Telegram ids and first names.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel

from bot.settings import Settings
from handlers.core.context import SERVICES_KEY, DTeamContext, Services
from handlers.timeline.retention import sweep_retention
from handlers.timeline.timed import sweep
from sandbox.server import BotApiServer
from storage.database import Database
from storage.models import Delivery, Participant, ProcessedUpdate, Run, Workshop
from storage.participants import get_or_create_participant, set_consent
from storage.runs import record_answer, start_run
from tests.e2e.harness import Person, make_settings
from tests.e2e.schedule_helpers import (
    GROUP,
    MODERATOR,
    FakeClock,
    add_group,
    hand_swept_clock,
    live_bot,
    make_workshop,
    rows,
)

NOW = datetime.now(UTC).replace(microsecond=0)
# A session the day after tomorrow, 17:00 in Berlin; its timeline relative to the real clock,
# because rows the bot writes carry real timestamps.
START = (NOW + timedelta(days=2)).replace(hour=16, minute=0, second=0)
END = START + timedelta(minutes=90)
SCHEDULE = f"/schedule {START.astimezone(ZoneInfo('Europe/Berlin')):%d.%m.%Y %H:%M} 90m"
PEOPLE = {7730001: "Adelgunde", 7730002: "Bertholda", 7730003: "Cunigunde"}
SOLO = (7730004, "Dietlinde")


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return hand_swept_clock(monkeypatch, NOW)


@pytest.fixture
def settings(sandbox: BotApiServer, database_url: str) -> Settings:
    add_group(sandbox)
    return make_settings(sandbox.root, database_url, moderators=str(MODERATOR))


def services_of(app: Any) -> Services:
    services = app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services


async def schedule(sandbox: BotApiServer, command: str) -> str:
    """The moderator sends /schedule in the group; returns the bot's answer."""
    mark = sandbox.mark()
    sandbox.send_text(MODERATOR, command, chat_id=GROUP)
    reply = await sandbox.wait_for(
        lambda m: not (m.text or "").startswith("📊"), 10, chat_id=GROUP, since=mark
    )
    return reply.text or ""


async def join_people(sandbox: BotApiServer, code: str) -> None:
    """Two participants finish, one stops half-way."""
    for i, (uid, name) in enumerate(PEOPLE.items()):
        person = Person(sandbox, uid, name)
        first = await person.join(code)
        if i < 2:
            await person.answer_all(first)


async def add_solo_run(db: Database) -> None:
    """Someone who answered on their own, outside any session."""
    async with db.write() as session:
        person = await get_or_create_participant(
            session, telegram_id=SOLO[0], first_name=SOLO[1], language="de"
        )
        await set_consent(session, participant=person)
        run = await start_run(
            session,
            participant_id=person.id,  # type: ignore[arg-type]
            workshop_id=None,
            questionnaire_version="1",
            language="de",
            first_item="g01",
        )
        await record_answer(session, run_id=run.id, item_id="g01", option_id="5")  # type: ignore[arg-type]


async def count(db: Database, table: type[SQLModel]) -> int:
    async with db.read() as session:
        res = await session.execute(select(func.count()).select_from(table))
        return int(res.scalar_one())


async def personal_traces(db: Database) -> list[str]:
    """Returns every row, in any table, that names a participant by Telegram id or name."""
    needles = [str(uid) for uid in PEOPLE] + list(PEOPLE.values()) + [str(SOLO[0]), SOLO[1]]
    found = []
    async with db.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                dump = repr(tuple(row))
                found += [f"{table.name}: {dump}" for n in needles if n in dump]
    return found


async def test_nothing_personal_is_left_of_a_session_past_its_date(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, db: Database, database_url: str
) -> None:
    workshop = await make_workshop(database_url)
    await add_solo_run(db)
    async with live_bot(settings) as app:
        await join_people(sandbox, workshop.code)
        await schedule(sandbox, SCHEDULE)
        services = services_of(app)
        clock.set(NOW + timedelta(days=1))  # Telegram may still re-deliver: ids are kept
        assert (await sweep_retention(services)).updates == 0
        assert await count(db, ProcessedUpdate) > 0
        clock.set(START - timedelta(days=1))
        await sweep(DTeamContext(app))  # the day-before reminders: delivery rows per person
        assert await count(db, Delivery) == 3
        # Nobody closes the session. A day before its date nothing of it goes; the solo run,
        # idle for 31 days by then, does.
        clock.set(END + timedelta(days=29))
        early = await sweep_retention(services)
        assert (early.workshops, early.loose_runs, early.failed) == (0, 1, 0)
        assert await count(db, Run) == 3
        clock.set(END + timedelta(days=30, minutes=1))
        swept = await sweep_retention(services)
        assert (swept.workshops, swept.runs, swept.failed) == (1, 3, 0)
        again = await sweep_retention(services)  # idempotent: nothing left to do
        assert (again.workshops, again.runs, again.loose_runs, again.participants) == (0, 0, 0, 0)
    assert await personal_traces(db) == []
    for table in (Run, Delivery, Participant, ProcessedUpdate):
        assert await count(db, table) == 0, table
    async with db.read() as session:
        kept = await session.get(Workshop, workshop.id)
    assert kept is not None
    assert kept.purged_at is not None
    assert kept.status == "closed"  # nobody can add to a purged session
    assert kept.aggregate is not None
    assert kept.aggregate["n"] == 2


async def test_a_failed_purge_is_tried_again(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, db: Database, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the fault is a SQLite trigger")
    workshop = await make_workshop(database_url)
    async with live_bot(settings) as app:
        await join_people(sandbox, workshop.code)
        services = services_of(app)
        clock.set(NOW + timedelta(days=31))
        # The disk fails while answers are deleted: the purge rolls back as a whole.
        async with db.write() as session:
            await session.execute(
                text(
                    "CREATE TRIGGER broken_disk BEFORE DELETE ON answer "
                    "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
                )
            )
        failed = await sweep_retention(services)
        assert failed.workshops == 0
        assert failed.failed >= 1
        assert await count(db, Run) == 3
        async with db.write() as session:
            await session.execute(text("DROP TRIGGER broken_disk"))
        retried = await sweep_retention(services)  # the next periodic run
        assert retried.workshops == 1
        assert retried.failed == 0
    assert await personal_traces(db) == []
    assert await count(db, Run) == 0


async def test_the_timed_purge_forgets_who_was_reminded_and_who_joined(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, db: Database, database_url: str
) -> None:
    workshop = await make_workshop(database_url)
    async with live_bot(settings) as app:
        await join_people(sandbox, workshop.code)
        await schedule(sandbox, SCHEDULE + " retention=7d")
        for when in (START - timedelta(days=1), END, END + timedelta(days=7)):
            clock.set(when)
            await sweep(DTeamContext(app))  # the scheduled rows only, not the retention sweep
    done = await rows(database_url)
    assert done["purge"].status == "sent"
    assert await count(db, Run) == 0
    assert await count(db, Delivery) == 0
    async with db.read() as session:
        joined = await session.execute(
            select(func.count()).where(Participant.joined_workshop_id == workshop.id)  # type: ignore[arg-type]
        )
        assert joined.scalar_one() == 0


async def test_schedule_caps_retention_at_the_operators_setting(
    sandbox: BotApiServer, settings: Settings, clock: FakeClock, db: Database, database_url: str
) -> None:
    await make_workshop(database_url)
    async with live_bot(settings):
        reply = await schedule(sandbox, SCHEDULE + " retention=9999d")
    assert "9999d" in reply
    assert "30 Tage" in reply
    done = await rows(database_url)
    assert done["purge"].due_at == END + timedelta(days=30)

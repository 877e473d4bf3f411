"""The session timeline end to end: /schedule, reminders, close, retention, with a fake clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

import bot.scheduler
from bot.settings import Settings
from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Result, Run, Workshop
from tests.e2e.harness import Person, make_settings
from tests.e2e.schedule_helpers import (
    END,
    GROUP,
    MODERATOR,
    SCHEDULE,
    START,
    FakeClock,
    add_group,
    count,
    hand_swept_clock,
    live_bot,
    make_workshop,
    rows,
    run_sweep,
    texts_to,
)
from tests.support.database import reading


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return hand_swept_clock(monkeypatch)


@pytest.fixture
def settings(sandbox: BotApiServer, database_url: str) -> Settings:
    add_group(sandbox)
    return make_settings(sandbox.root, database_url, moderators=str(MODERATOR))


async def rows_in(session: AsyncSession, table: type[SQLModel]) -> int:
    """Counts the rows of a table."""
    return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def schedule(sandbox: BotApiServer, text: str = SCHEDULE) -> str:
    """The moderator sends a /schedule command in the group; returns the bot's answer."""
    mark = sandbox.mark()
    sandbox.send_text(MODERATOR, text, chat_id=GROUP)
    # Not the live message: its edits may land in the group at any moment.
    reply = await sandbox.wait_for(
        lambda m: not (m.text or "").startswith("📊"), 10, chat_id=GROUP, since=mark
    )
    return reply.text or ""


async def test_whole_timeline_fires_in_order(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    workshop = await make_workshop(database_url)
    async with live_bot(settings) as app:
        ada, bob = Person(sandbox, 2001, "Ada"), Person(sandbox, 2002, "Bob")
        await ada.answer_all(await ada.join(workshop.code))
        await bob.join(workshop.code)  # starts, never finishes
        sandbox.send_text(MODERATOR, "/start")  # so that the bot may write to the moderator
        await sandbox.wait_for(lambda _m: True, 10, chat_id=MODERATOR)
        shown = await schedule(sandbox)
        assert "Zeitplan" in shown
        assert "12.01.2030, 17:00 Uhr" in shown
        steps = [
            (START - timedelta(days=1), [(2001, "beginnt am"), (2002, "beginnt am")]),
            (START - timedelta(minutes=15), [(2001, "in 15 Minuten"), (2002, "in 15 Minuten")]),
            (START, [(GROUP, "hat begonnen")]),
            (START + timedelta(minutes=10), [(2002, "noch nicht abgeschlossen")]),
            (END - timedelta(minutes=10), [(GROUP, "1 von 2")]),
            (END, [(GROUP, "ist beendet")]),
            (END + timedelta(days=28), [(MODERATOR, "werden am")]),
        ]
        for when, expected in steps:
            clock.set(when)
            assert await run_sweep(app) >= 1
            for chat_id, needle in expected:
                got = texts_to(sandbox, chat_id)
                assert count(sandbox, chat_id, needle) == 1, (when, chat_id, got)
            assert await run_sweep(app) == 0  # nothing twice
        assert count(sandbox, 2001, "noch nicht abgeschlossen") == 0  # Ada finished: no nudge
        clock.set(END + timedelta(days=30))
        await run_sweep(app)
    done = await rows(database_url)
    assert {r.status for r in done.values()} == {"sent"}
    assert (done["purge"].detail or "").startswith("deleted 2 runs")
    async with reading(database_url) as s:
        ws = await s.get(Workshop, workshop.id)
        assert ws is not None
        assert ws.status == "closed"
        assert ws.purged_at is not None
        assert ws.aggregate is not None
        assert ws.aggregate["n"] == 1
        assert await rows_in(s, Run) == 0
        assert await rows_in(s, Answer) == 0


async def test_restart_between_scheduling_and_firing(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    workshop = await make_workshop(database_url)
    ada = Person(sandbox, 2101, "Ada")
    async with live_bot(settings) as app:
        await ada.join(workshop.code)
        await schedule(sandbox)
        queued = [j.name or "" for j in app.job_queue.jobs()]  # type: ignore[union-attr]
        assert sum(n.startswith("scheduled:") for n in queued) == 8
    async with live_bot(settings) as app:  # a new process: jobs come back from the database
        queued = [j.name or "" for j in app.job_queue.jobs()]  # type: ignore[union-attr]
        assert sum(n.startswith("scheduled:") for n in queued) == 8
        clock.set(START - timedelta(days=1))
        assert await run_sweep(app) == 1
    async with live_bot(settings) as app:
        assert await run_sweep(app) == 0
        queued = [j.name or "" for j in app.job_queue.jobs()]  # type: ignore[union-attr]
        assert sum(n.startswith("scheduled:") for n in queued) == 7
    assert count(sandbox, ada.user_id, "beginnt am") == 1


async def test_bot_down_across_due_times(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bot.scheduler, "FIRST_SWEEP_SECONDS", 0.5)  # the catch-up under test
    workshop = await make_workshop(database_url)
    ada = Person(sandbox, 2201, "Ada")
    async with live_bot(settings):
        await ada.join(workshop.code)
        await schedule(sandbox)
    clock.set(START + timedelta(minutes=5))  # down across both reminders and the start
    async with live_bot(settings):
        # The sweep at start-up catches up: the announcement is still useful, the reminders not.
        await sandbox.wait_for(lambda m: "hat begonnen" in (m.text or ""), 10, chat_id=GROUP)
        for _ in range(50):
            done = await rows(database_url)
            if done["remind_day"].status != "pending" and done["remind_soon"].status != "pending":
                break
            await asyncio.sleep(0.1)
    assert done["remind_day"].status == "skipped"
    assert done["remind_soon"].status == "skipped"
    assert "too late" in (done["remind_soon"].detail or "")
    assert done["announce"].status == "sent"
    assert count(sandbox, ada.user_id, "Minuten") == 0


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ("/schedule 31.02.2030 17:00", "kein gültiges Datum"),
        ("/schedule 12.01.2030 17:99", "keine gültige Uhrzeit"),
        ("/schedule 12.01.2030 17:00 zwei", "keine gültige Dauer"),
        ("/schedule morgen", "Datum und Uhrzeit"),
        ("/schedule 01.01.2020 17:00", "Vergangenheit"),
    ],
)
async def test_bad_schedule_input_gets_an_example(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
    command: str,
    needle: str,
) -> None:
    await make_workshop(database_url)
    async with live_bot(settings):
        reply = await schedule(sandbox, command)
    assert needle in reply
    assert "/schedule 29.10.2026 17:00 90m" in reply
    assert await rows(database_url) == {}


async def test_iso_input_and_show_and_unschedule(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    await make_workshop(database_url)
    async with live_bot(settings) as app:
        shown = await schedule(sandbox, "/schedule 2030-01-12T17:00 2h soon=30m day=off")
        assert "19:00 Uhr" in shown
        assert "Vortag" not in shown
        assert "(geplant)" in (await schedule(sandbox, "/schedule"))
        assert (await rows(database_url))["remind_soon"].due_at == START - timedelta(minutes=30)
        cleared = await schedule(sandbox, "/unschedule")
        assert "gelöscht" in cleared
        assert not any(j.name.startswith("scheduled:") for j in app.job_queue.jobs())  # type: ignore[union-attr]
    assert await rows(database_url) == {}


async def test_non_moderator_cannot_schedule(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    await make_workshop(database_url)
    sandbox.add_user(4242, "Eve")
    sandbox.set_member(GROUP, 4242, "member")
    async with live_bot(settings):
        mark = sandbox.mark()
        sandbox.send_text(4242, SCHEDULE, chat_id=GROUP)
        not_live = lambda m: not (m.text or "").startswith("📊")  # noqa: E731
        reply = await sandbox.wait_for(not_live, 10, chat_id=GROUP, since=mark)
        mark = sandbox.mark()
        sandbox.send_text(4242, "/unschedule", chat_id=GROUP)
        await sandbox.wait_for(not_live, 10, chat_id=GROUP, since=mark)
    assert "nur die Moderierenden" in (reply.text or "")
    assert await rows(database_url) == {}


async def test_opting_out_with_one_tap_and_back_on(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    workshop = await make_workshop(database_url)
    ada = Person(sandbox, 2301, "Ada")
    async with live_bot(settings) as app:
        await ada.join(workshop.code)
        await schedule(sandbox)
        clock.set(START - timedelta(days=1))
        await run_sweep(app)
        reminder = sandbox.find(lambda m: "beginnt am" in (m.text or ""), chat_id=ada.user_id)
        assert reminder is not None
        assert [b["callback_data"] for b in reminder.buttons if "callback_data" in b] == ["m:off"]
        await ada.press(reminder, "m:off")
        clock.set(START - timedelta(minutes=15))
        await run_sweep(app)
        assert count(sandbox, ada.user_id, "in 15 Minuten") == 0
        mark = sandbox.mark()
        sandbox.send_text(ada.user_id, "/reminders on")
        # Not ada.say(): the bot may still be editing the reminder after the tap.
        answer = await sandbox.wait_for(
            lambda m: "eingeschaltet" in (m.text or ""), 10, chat_id=ada.user_id, since=mark
        )
        assert "eingeschaltet" in (answer.text or "")
    async with reading(database_url) as s:
        person = (
            await s.execute(select(Participant).where(col(Participant.telegram_id) == 2301))
        ).scalar_one()
        assert person.reminders is True


async def test_blocked_participant_is_not_messaged_again(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    workshop = await make_workshop(database_url)
    ada, bob = Person(sandbox, 2401, "Ada"), Person(sandbox, 2402, "Bob")
    async with live_bot(settings) as app:
        await ada.join(workshop.code)
        await bob.join(workshop.code)
        await schedule(sandbox)
        sandbox.block_bot(bob.user_id)
        for when in (START - timedelta(days=1), START - timedelta(minutes=15)):
            clock.set(when)
            await run_sweep(app)
    to_bob = [c for c in sandbox.calls_to("sendMessage") if c.chat_id == bob.user_id]
    assert [c.status for c in to_bob[-1:]] == [403]  # tried once after blocking, then never
    assert sum(c.status == 403 for c in to_bob) == 1
    assert count(sandbox, ada.user_id, "in 15 Minuten") == 1
    assert "unreachable 1" in ((await rows(database_url))["remind_day"].detail or "")


async def test_retention_deletes_raw_answers_but_keeps_the_aggregate(
    sandbox: BotApiServer,
    settings: Settings,
    clock: FakeClock,
    database_url: str,
) -> None:
    workshop = await make_workshop(database_url)
    people = [Person(sandbox, 2500 + i, f"P{i}") for i in range(4)]
    async with live_bot(settings) as app:
        for person in people:
            await person.answer_all(await person.join(workshop.code))
        await schedule(sandbox, SCHEDULE + " retention=7d")
        clock.set(END)
        await run_sweep(app)
        posts = "\n".join(texts_to(sandbox, GROUP))
        assert "ist beendet" in posts
        assert "Das D-Team von „Rathaus Nord“" in posts  # issue 4's D-Team post, automatically
        assert "4 Teilnehmende" in posts
        assert any(m.photo is not None for m in sandbox.messages(GROUP))  # with its chart
        clock.set(END + timedelta(days=7))
        await run_sweep(app)
    async with reading(database_url) as s:
        ws = await s.get(Workshop, workshop.id)
        assert ws is not None
        assert ws.aggregate is not None
        assert ws.aggregate["n"] == 4
        # the composition kept is the disclosed one: the first 3 finishers (k = 3)
        assert ws.aggregate["counted"] == 3
        assert sum(ws.aggregate["counts"].values()) == 3
        for table in (Run, Answer, Result):
            assert await rows_in(s, table) == 0
        assert await rows_in(s, Participant) == 4

"""Moderators and participants acting on one workshop at the same moment, on two replicas.

On PostgreSQL transactions write side by side: two that lock the same rows in a different
order deadlock, and one of them fails (a webhook answers 500 and Telegram delivers again).
Each test repeats a race many times and requires that no update ever failed.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlmodel import col

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Participant, Run, Workshop
from tests.e2e.harness import BotProcess, Person, answer_buttons, progress
from tests.e2e.webhook_harness import Relay, count_rows, two_replicas
from tests.e2e.websession import command, make_group, open_session
from tests.support.database import reading

GROUP, MOD = -9100, 9100
ROUNDS, PEOPLE, ANSWERED = 6, 6, 3


async def _answer_some(person: Person, code: str, n: int) -> StoredMessage:
    """Joins and answers the first n questions; returns the question shown then."""
    current = await person.join(code)
    for n_th in range(1, n + 1):

        def after(message: StoredMessage, n_th: int = n_th) -> bool:
            return (progress(message) or (0, 0))[0] == n_th + 1

        data = answer_buttons(current)[0]["callback_data"]
        current = await person.press_and_wait(current, data, after)
    return current


def _reopened(message: StoredMessage) -> bool:
    return "geöffnet" in (message.text or "")  # reopened, or already open


def _failed(relay: Relay) -> list[int]:
    return [s for s in relay.statuses if s != 200]


async def test_reset_and_delete_me_at_once_never_fail(
    sandbox: BotApiServer, database_url: str
) -> None:
    async with two_replicas(sandbox, database_url) as (relay, _replicas):
        make_group(sandbox, GROUP, MOD)
        code = await open_session(sandbox, MOD, GROUP)
        for round_ in range(ROUNDS):
            people = [
                Person(sandbox, 9200 + round_ * PEOPLE + n, f"R{round_}P{n}", timeout=40)
                for n in range(PEOPLE)
            ]
            await asyncio.gather(*(_answer_some(p, code, ANSWERED) for p in people))
            confirms = [await p.say("/delete_me") for p in people]
            reset = await command(sandbox, MOD, GROUP, "/reset", lambda m: bool(m.buttons))
            yes = next(b for b in reset.buttons if b["callback_data"].endswith(":yes"))
            mark = sandbox.mark()
            # Everyone at once: the moderator's reset and each participant's deletion.
            sandbox.press_button(MOD, reset.message_id, yes["callback_data"], chat_id=GROUP)
            for person, confirm in zip(people, confirms, strict=True):
                sandbox.press_button(person.user_id, confirm.message_id, "d:yes")
            await sandbox.wait_for(
                lambda m: "zurückgesetzt" in (m.text or ""), 30, chat_id=GROUP, since=mark
            )
            for person in people:
                await sandbox.wait_for(
                    lambda m: "gelöscht" in (m.text or ""), 30, chat_id=person.user_id, since=mark
                )
            assert _failed(relay) == [], f"round {round_}: {relay.statuses}"
        assert await count_rows(database_url, Run) == 0
        assert await count_rows(database_url, Participant) == 0
        assert sandbox.stats().get("webhook_failed", 0) == 0


async def _open_workshops(database_url: str, chat_id: int) -> list[int]:
    async with reading(database_url) as s:
        res = await s.execute(
            select(col(Workshop.id)).where(
                col(Workshop.chat_id) == chat_id, col(Workshop.status) == "open"
            )
        )
        return sorted(w for w in res.scalars() if w is not None)


async def test_two_admins_opening_a_session_at_once_open_one(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    sandbox.add_user(MOD + 1, "Zweite Moderatorin")
    sandbox.set_member(GROUP, MOD + 1, "administrator")
    url = bot.settings.database_url
    for round_ in range(2 * ROUNDS):
        mark = sandbox.mark()

        def posted(mark: int = mark) -> tuple[int, int]:
            """QR codes and /reopen answers in the group since the mark."""
            new = [m for m in sandbox.messages(GROUP) if m.seq > mark]
            reopen = [m for m in new if "geöffnet" in (m.text or "")]
            return len([m for m in new if m.photo]), len(reopen)

        # Both in the same moment: one poll fetches both, and they run side by side. Every
        # other round one of them reopens the closed session instead.
        first = "/reopen" if round_ % 2 else "/session Doppelt"
        sandbox.send_text(MOD, first, chat_id=GROUP)
        sandbox.send_text(MOD + 1, "/session Doppelt", chat_id=GROUP)
        want = (1, 1) if round_ % 2 else (2, 0)
        async with asyncio.timeout(15):
            while posted() != want:  # noqa: ASYNC110 - polls the stand-in
                await asyncio.sleep(0.05)
        assert len(await _open_workshops(url, GROUP)) == 1, f"round {round_}"
        await command(sandbox, MOD, GROUP, "/close", lambda m: "geschlossen" in (m.text or ""))
        assert await _open_workshops(url, GROUP) == []


async def test_everyone_at_once_never_fails(sandbox: BotApiServer, database_url: str) -> None:
    """Answers, back, /delete_me, and two admins' /close, /reopen, /reset, /teams at once."""
    async with two_replicas(sandbox, database_url) as (relay, _replicas):
        make_group(sandbox, GROUP, MOD)
        sandbox.add_user(MOD + 1, "Zweite Moderatorin")
        sandbox.set_member(GROUP, MOD + 1, "administrator")
        code = await open_session(sandbox, MOD, GROUP)
        for round_ in range(ROUNDS):
            people = [
                Person(sandbox, 9400 + round_ * PEOPLE + n, f"E{round_}P{n}", timeout=40)
                for n in range(PEOPLE)
            ]
            shown = await asyncio.gather(*(_answer_some(p, code, ANSWERED) for p in people))
            confirm = await people[0].say("/delete_me")
            reset = await command(sandbox, MOD, GROUP, "/reset", lambda m: bool(m.buttons))
            yes = next(b for b in reset.buttons if b["callback_data"].endswith(":yes"))
            mark = sandbox.mark()
            sandbox.press_button(MOD, reset.message_id, yes["callback_data"], chat_id=GROUP)
            sandbox.send_text(MOD + 1, "/teams 2", chat_id=GROUP)
            sandbox.press_button(people[0].user_id, confirm.message_id, "d:yes")
            for person, question in zip(people[1:], shown[1:], strict=True):
                back = next(b for b in question.buttons if b["callback_data"].startswith("b:"))
                sandbox.press_button(person.user_id, question.message_id, back["callback_data"])
                answer = answer_buttons(question)[0]["callback_data"]
                sandbox.press_button(person.user_id, question.message_id, answer)
            sandbox.send_text(MOD, "/close" if round_ % 2 else "/status", chat_id=GROUP)
            await sandbox.wait_for(
                lambda m: "zurückgesetzt" in (m.text or ""), 30, chat_id=GROUP, since=mark
            )
            await command(sandbox, MOD + 1, GROUP, "/reopen", _reopened)
            assert _failed(relay) == [], f"round {round_}: {relay.statuses}"
        assert sandbox.stats().get("webhook_failed", 0) == 0

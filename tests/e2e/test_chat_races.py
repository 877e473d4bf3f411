"""Moderators and participants acting on one workshop at the same moment, on two replicas.

On PostgreSQL transactions write side by side: two that lock the same rows in a different
order deadlock, and one of them fails (a webhook answers 500 and Telegram delivers again).
Each test repeats a race many times and requires that no update ever failed.
"""

from __future__ import annotations

import asyncio

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Participant, Run
from tests.e2e.harness import Person, answer_buttons, progress
from tests.e2e.webhook_harness import Relay, count_rows, two_replicas
from tests.e2e.websession import command, make_group, open_session

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

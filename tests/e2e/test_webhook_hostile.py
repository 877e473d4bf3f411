"""Real updates from the stand-in, mutated, posted to a webhook replica: 200, nothing changed.

Each mutation is what a client or a broken proxy could produce from an update the bot really
got: fields swapped for other types, missing or null, huge numbers, nested garbage, unicode,
long texts, commands for another bot, other kinds of update. None may fail (500), log an
error, or change a row.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Result, Run, Workshop
from tests.e2e.harness import Person, answer_buttons
from tests.e2e.webhook_harness import Relay, WebhookProcess, one_replica
from tests.e2e.websession import make_group, open_session
from tests.support.database import reading

GROUP, MOD, ADA = -9300, 9300, 9301
HUGE = (2**31, 2**63, -(2**63) - 1, 10**30)
GARBAGE: tuple[Any, ...] = (None, "", "x", -1, 0, 1.5, True, [], [1, {"a": None}], {}, {"id": []})
TEXTS = (
    "/start@otherbot",
    "/session@otherbot x",
    "/teams@dteam_test_bot 99999999999999999999",
    "/start " + "A" * 5000,
    "\u202e/start\u202c",
    "\u200f\u200e" * 100,
    "🎉" * 3000,
    "/session " + "\u202eأهلا 🎉" * 60,
    "/schedule 2026-12-31 10:00 " + "9" * 400,
    "\x00/start\x00",
    "/session a\x00b",
    "/schedule 2026-12-31 10:00 \x00",
)


@pytest.fixture
async def hooked(
    sandbox: BotApiServer, database_url: str
) -> AsyncIterator[tuple[Relay, WebhookProcess]]:
    async with one_replica(sandbox, database_url) as running:
        yield running


async def _rows(database_url: str) -> tuple[Any, ...]:
    """Everything a mutated update could change (not processed_update: ids are recorded)."""
    async with reading(database_url) as s:
        counts = [
            (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Participant, Run, Answer, Result, Workshop)
        ]
        people = (
            await s.execute(select(col(Participant.telegram_id), col(Participant.first_name)))
        ).all()
        runs = (await s.execute(select(col(Run.id), col(Run.status), col(Run.current_item)))).all()
        shops = (
            await s.execute(select(col(Workshop.id), col(Workshop.status), col(Workshop.title)))
        ).all()
    return tuple(counts), sorted(people), sorted(runs), sorted(shops)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON object (not into lists)."""
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            out.append((*prefix, key))
            out += _paths(inner, (*prefix, key))
    return out


def _set(update: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(update)
    node = mutated
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return mutated


_DELETE = object()


def mutations(update: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each field of a real update missing, null, swapped, huge; texts and kinds varied."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in _paths(update):
        if path == ("update_id",):
            continue
        original = _get(update, path)
        values: list[Any] = [_DELETE, *GARBAGE]
        if path[-1] == "id" and path[-2] in ("from", "chat"):
            # Another plausible id is another person or chat acting, which may change rows:
            # only ids Telegram could never send here.
            values = [v for v in values if type(v) is not int] + list(HUGE[1:])
        elif isinstance(original, int) and not isinstance(original, bool):
            values += list(HUGE)
        if isinstance(original, str):
            values += list(TEXTS)
        out += [
            (f"{'.'.join(map(str, path))}={value!r:.40}", _set(update, path, value))
            for value in values
        ]
    kind = next(k for k in update if k != "update_id")
    body = update[kind]
    for other in ("edited_message", "channel_post", "edited_channel_post", "message_reaction"):
        out.append((f"as {other}", {other: copy.deepcopy(body)}))
    out.append(
        (
            "bare my_chat_member",
            {"my_chat_member": {"chat": {"id": -777, "type": "group", "title": "?"}}},
        )
    )
    out.append(
        (
            "my_chat_member of an unknown chat",
            {
                "my_chat_member": {
                    "chat": {"id": -778, "type": "supergroup", "title": "fremd"},
                    "from": {"id": 7781, "is_bot": False, "first_name": "X"},
                    "date": 1,
                    "old_chat_member": {
                        "status": "left",
                        "user": {"id": 1, "is_bot": True, "first_name": "b"},
                    },
                    "new_chat_member": {
                        "status": "member",
                        "user": {"id": 1, "is_bot": True, "first_name": "b"},
                    },
                }
            },
        )
    )
    out.append(
        (
            "message_reaction",
            {
                "message_reaction": {
                    "chat": {"id": GROUP, "type": "supergroup", "title": "g"},
                    "message_id": 1,
                    "date": 1,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "🎉"}],
                    "user": {"id": ADA, "is_bot": False, "first_name": "Ada"},
                }
            },
        )
    )
    return out


def _get(update: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = update
    for key in path:
        node = node[key]
    return node


def _describe(record: logging.LogRecord, labels: dict[int, str]) -> str:
    """The mutation an error was logged for, the message and the exception, short."""
    text = record.getMessage()
    found = re.search(r"update (\d+)", text)
    label = labels.get(int(found[1]), "?") if found else "?"
    exc = repr(record.exc_info[1])[:150] if record.exc_info else ""
    return f"{label}: {text.splitlines()[0][:150]} {exc}"


async def test_mutated_real_updates_get_200_and_change_nothing(
    sandbox: BotApiServer,
    hooked: tuple[Relay, WebhookProcess],
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    relay, process = hooked
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    ada = Person(sandbox, ADA, "Ada")
    first = await ada.join(code)
    await ada.press(first, answer_buttons(first)[0]["callback_data"])
    real = [p for p in relay.payloads if "message" in p or "callback_query" in p]
    kinds = {("message" if "message" in p else "callback_query") for p in real}
    assert kinds == {"message", "callback_query"}
    before = await _rows(database_url)
    caplog.clear()
    caplog.set_level(logging.WARNING)
    next_id = 50_000_000
    failed: list[str] = []
    tried = 0
    labels: dict[int, str] = {}
    for update in real:
        kind = next(k for k in update if k != "update_id")
        for label, mutated in mutations(update):
            next_id += 1
            mutated["update_id"] = next_id
            labels[next_id] = f"{kind} {label}"
            status = await process.post(mutated)
            tried += 1
            if status != 200:
                failed.append(f"{status} {kind} {label}")
    assert tried > 500
    errors = [_describe(r, labels) for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed == []
    assert errors == []
    after = await _rows(database_url)
    assert after == before, (after, before)


async def test_a_nul_character_in_a_title_or_name_is_left_out(
    sandbox: BotApiServer, hooked: tuple[Relay, WebhookProcess], database_url: str
) -> None:
    relay, _process = hooked
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP, title="Nul\x00Titel")
    ada = Person(sandbox, ADA, "A\x00da")
    await ada.join(code)  # her consent stores her name
    async with reading(database_url) as s:
        titles = (await s.execute(select(col(Workshop.title)))).scalars().all()
        names = (await s.execute(select(col(Participant.first_name)))).scalars().all()
    assert (list(titles), list(names)) == (["NulTitel"], ["Ada"])
    assert [s for s in relay.statuses if s != 200] == []

"""Helpers for web-session tests: groups, moderators, participants who join and finish."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlmodel import col

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Result, Run, Workshop
from tests.e2e.harness import TOKEN, BotProcess, Person, answer_buttons, progress
from tests.support import groups
from tests.support.database import reading

BOT_ID = int(TOKEN.split(":")[0])
_CODE = re.compile(r"\?start=([A-Za-z0-9_-]+)$")
NAMES_DE = {
    "Die Bedächtigen": "bedaechtige",
    "Die Optimierer": "optimierer",
    "Die Serviceorientierten": "serviceorientierte",
    "Die Community Manager": "community",
}


def make_group(
    sandbox: BotApiServer, chat_id: int, moderator: int, *, can_pin: bool = True
) -> None:
    """A group with the bot as admin (pin right optional) and a moderator as creator."""
    groups.make_group(sandbox, chat_id, moderator, bot_id=BOT_ID, can_pin_messages=can_pin)


async def command(
    sandbox: BotApiServer,
    user_id: int,
    chat_id: int,
    text: str,
    predicate: Callable[[StoredMessage], bool] = lambda _m: True,
    *,
    where: int | None = None,
    timeout: float = 15.0,
) -> StoredMessage:
    """Sends a command in a chat and waits for a matching bot message (in `where`)."""
    mark = sandbox.mark()
    sandbox.send_text(user_id, text, chat_id=chat_id)
    return await sandbox.wait_for(
        predicate, timeout, chat_id=chat_id if where is None else where, since=mark
    )


async def open_session(
    sandbox: BotApiServer, moderator: int, chat_id: int, title: str = "Testlauf"
) -> str:
    """Opens a session as moderator; returns the join code from the QR message's button."""
    qr = await command(
        sandbox, moderator, chat_id, f"/session {title}", lambda m: m.photo is not None
    )
    await sandbox.wait_for(lambda m: (m.text or "").startswith("📊 Live"), 15, chat_id=chat_id)
    url = qr.buttons[0]["url"]
    match = _CODE.search(url)
    assert match, url
    return match[1]


def chooser(seed: int) -> Callable[[str, list[dict[str, str]]], dict[str, str]]:
    """Picks answers at random (seeded), so participants end up in different types."""
    rng = random.Random(seed)
    return lambda _item, buttons: rng.choice(buttons)


async def finish(person: Person, code: str, seed: int, think: float = 0.0) -> str:
    """Joins through the deep link, answers everything; returns the main type shown."""
    first = await person.join(code)
    pick = chooser(seed)

    def thinking(item: str, buttons: list[dict[str, str]]) -> dict[str, str]:
        return pick(item, buttons)

    current = first
    while True:  # like Person.answer_all, but with a human pause before each click
        await asyncio.sleep(think)
        buttons = answer_buttons(current)
        choice = thinking(buttons[0]["callback_data"].split(":")[2], buttons)
        current = await person.press_and_wait(current, choice["callback_data"], _next)
        if not progress(current):
            return result_type(person)


def result_type(person: Person) -> str:
    """Returns the type id named in the person's result caption."""
    for message in reversed(person.sandbox.messages(person.user_id)):
        caption = message.caption or ""
        if caption.startswith("Ihr Ergebnis: "):
            return NAMES_DE[caption.removeprefix("Ihr Ergebnis: ").strip()]
    raise AssertionError(f"no result for {person.user_id}")


def _next(message: StoredMessage) -> bool:
    text = message.text or ""
    return bool(progress(message) and answer_buttons(message)) or text.startswith("Steckbrief:")


async def crowd(
    sandbox: BotApiServer,
    code: str,
    ids: range,
    *,
    stagger: float = 0.05,
    think: float = 0.0,
) -> tuple[list[Person], Counter[str]]:
    """Lets participants join and finish concurrently; returns them and their types."""
    people = [Person(sandbox, uid, f"P{uid}", timeout=60) for uid in ids]

    async def one(i: int, person: Person) -> str:
        await asyncio.sleep(i * stagger)
        return await finish(person, code, seed=person.user_id, think=think)

    types = await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))
    return people, Counter(types)


def live_message(sandbox: BotApiServer, chat_id: int) -> StoredMessage | None:
    """Returns the bot's newest live message in the group."""
    found = [m for m in sandbox.messages(chat_id) if (m.text or "").startswith("📊 Live")]
    return found[-1] if found else None


async def wait_live(
    sandbox: BotApiServer,
    chat_id: int,
    needle: str,
    timeout: float = 30,
) -> str:
    """Waits until the group's live message contains needle; returns its text."""
    msg = await sandbox.wait_for(
        lambda m: (m.text or "").startswith("📊 Live") and needle in (m.text or ""),
        timeout,
        chat_id=chat_id,
    )
    return msg.text or ""


def summary_counts(text: str) -> dict[str, int]:
    """Reads '• <type name>: <count> (<share> %)' lines of a German post into type id -> count."""
    out = {}
    for name, type_id in NAMES_DE.items():
        match = re.search(rf"• {re.escape(name)}: (\d+) \(", text)
        if match:
            out[type_id] = int(match[1])
    return out


async def db_state(bot: BotProcess) -> tuple[list[Workshop], int, Counter[str]]:
    """Returns workshops, number of runs, and result types straight from the database."""
    async with reading(bot.settings.database_url) as s:
        workshops = list((await s.execute(select(Workshop).order_by(col(Workshop.id)))).scalars())
        runs = len((await s.execute(select(col(Run.id)))).all())
        types = Counter((await s.execute(select(col(Result.main_type)))).scalars())
        return workshops, runs, types

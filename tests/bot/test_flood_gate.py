"""A flood's messages are dropped before they are parsed, with the same bound, count and log."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot.extbot import DTeamBot
from bot.processor import PerUserProcessor
from bot.update_guard import parse_batch

FLOODER, OTHER, GROUP = 501, 502, -600


def _text(update_id: int, user: int, chat: int | None = None) -> dict[str, Any]:
    chat_id = user if chat is None else chat
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private" if chat is None else "group"},
            "from": {"id": user, "is_bot": False, "first_name": f"U{user}"},
            "text": f"text {update_id}",
        },
    }


def _press(update_id: int, user: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "chat_instance": "x",
            "from": {"id": user, "is_bot": False, "first_name": f"U{user}"},
            "data": "a:b",
        },
    }


async def _fill(processor: PerUserProcessor, bot: DTeamBot, raw: dict[str, Any]) -> asyncio.Event:
    """Occupies the sender's queue up to its bound with updates that wait for an event."""
    release = asyncio.Event()
    update = Update.de_json(raw, bot)
    for _ in range(2):
        asyncio.get_running_loop().create_task(processor.process_update(update, release.wait()))
    await asyncio.sleep(0.01)
    return release


@pytest.fixture
def bot() -> DTeamBot:
    return DTeamBot("123:abc")


async def test_a_full_queue_refuses_messages_unparsed(bot: DTeamBot) -> None:
    dropped: list[object] = []
    processor = PerUserProcessor(4, on_dropped=dropped.append, user_queue=2, group_queue=2)
    release = await _fill(processor, bot, _text(1, FLOODER))
    batch = [_text(2, FLOODER), _text(3, OTHER), _press(4, FLOODER), _text(5, FLOODER)]
    updates, last_refused = parse_batch(batch, bot, processor.refuses)
    # The flooder's texts are dropped and counted; the last one's id is left to confirm.
    assert [u.update_id for u in updates] == [3, 4]
    assert last_refused == 5
    assert updates[0].effective_user is not None
    assert updates[0].effective_user.id == OTHER
    assert updates[1].callback_query is not None  # a press is left for its toast
    assert [d["update_id"] for d in dropped] == [2, 5]  # type: ignore[index]
    # A refused update followed by a kept one needs no confirming of its own.
    assert parse_batch([_text(7, FLOODER), _text(8, OTHER)], bot, processor.refuses)[1] is None
    release.set()
    await asyncio.sleep(0.01)
    # Once the queue has room again, the flooder's texts are parsed as before.
    assert [u.update_id for u in parse_batch([_text(6, FLOODER)], bot, processor.refuses)[0]] == [
        6
    ]
    assert len(dropped) == 3


async def test_a_full_group_queue_refuses_its_messages(bot: DTeamBot) -> None:
    dropped: list[object] = []
    processor = PerUserProcessor(4, on_dropped=dropped.append, user_queue=8, group_queue=2)
    release = await _fill(processor, bot, _text(1, FLOODER, GROUP))
    updates, _ = parse_batch([_text(2, OTHER, GROUP), _text(3, OTHER)], bot, processor.refuses)
    assert [u.update_id for u in updates] == [3]
    assert len(dropped) == 1
    release.set()
    await asyncio.sleep(0.01)


async def test_the_bot_passes_polled_updates_through_its_gate(bot: DTeamBot) -> None:
    processor = PerUserProcessor(4, user_queue=1)
    bot.gate_floods(processor.refuses)
    release = await _fill(processor, bot, _text(1, FLOODER))
    assert [
        u.update_id
        for u in parse_batch([_text(2, FLOODER), _text(3, OTHER)], bot, bot._flood_gate)[0]
    ] == [3]
    release.set()
    await asyncio.sleep(0.01)

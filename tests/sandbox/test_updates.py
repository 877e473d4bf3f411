"""getUpdates semantics: offsets, long polling, conflicts, allowed_updates."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import Conflict

from sandbox.server import BotApiServer
from tests.sandbox.conftest import USER


async def test_offset_confirms_updates(server: BotApiServer, bot: Bot) -> None:
    for text in ("/start", "eins", "zwei"):
        server.send_text(USER, text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["/start", "eins", "zwei"]
    ids = [u.update_id for u in first]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert [u.update_id for u in await bot.get_updates()] == ids  # not confirmed yet
    rest = await bot.get_updates(offset=ids[1])
    assert [u.update_id for u in rest] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()


async def test_command_entities_and_private_chat(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start abc-123")
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.chat.type == "private"
    assert message.from_user is not None
    assert message.from_user.language_code == "de"
    assert message.entities[0].type == "bot_command"
    assert (message.entities[0].offset, message.entities[0].length) == (0, 6)
    assert message.date.timestamp() == pytest.approx(time.time(), abs=5)


async def test_negative_offset_keeps_the_last(server: BotApiServer, bot: Bot) -> None:
    for n in range(5):
        server.send_text(USER, f"m{n}")
    last_two = await bot.get_updates(offset=-2)
    assert [u.message.text for u in last_two if u.message] == ["m3", "m4"]
    assert len(await bot.get_updates()) == 2


async def test_limit(server: BotApiServer, bot: Bot) -> None:
    for n in range(5):
        server.send_text(USER, f"m{n}")
    assert len(await bot.get_updates(limit=2)) == 2


async def test_long_poll_wakes_on_update(server: BotApiServer, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    server.send_text(USER, "hallo")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["hallo"]
    assert time.monotonic() - started < 2


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=timedelta(seconds=0.3)) == ()
    assert time.monotonic() - started >= 0.25


async def test_second_poller_terminates_the_first(server: BotApiServer, bot: Bot) -> None:
    other = Bot(bot.token, base_url=bot.base_url.removesuffix(bot.token))
    await other.initialize()
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(other.get_updates(timeout=5))
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    server.send_text(USER, "x")
    assert len(await second) == 1
    await other.shutdown()


async def test_get_updates_conflicts_with_webhook(server: BotApiServer, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_allowed_updates_filters(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Frage", reply_markup=None)
    server.inject_update(
        {
            "callback_query": {
                "id": "1",
                "from": {"id": USER, "is_bot": False, "first_name": "E"},
                "chat_instance": "1",
                "data": "x",
                "message": sent.to_dict(),
            }
        }
    )
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query is not None for u in updates] == [True]


async def test_drop_pending_updates(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "alt")
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_group_privacy_mode(server: BotApiServer, bot: Bot) -> None:
    server.add_group(-5, "Workshop")
    server.set_member(-5, bot.id, "member")
    server.send_text(USER, "nur Plaudern", chat_id=-5)
    server.send_text(USER, "/ergebnis@dteam_bot", chat_id=-5)
    server.send_text(USER, "/ergebnis@other_bot", chat_id=-5)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["/ergebnis@dteam_bot"]
    server.set_privacy_mode(False)
    server.send_text(USER, "jetzt sichtbar", chat_id=-5)
    assert (await bot.get_me()).can_read_all_group_messages
    updates = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert [u.message.text for u in updates if u.message] == ["jetzt sichtbar"]

"""Flood limits, injected faults and latency, as PTB sees them."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import Forbidden, NetworkError, RetryAfter

from sandbox.server import BotApiServer
from tests.sandbox.conftest import USER

# PTB 22.x warns when RetryAfter is built while retry_after is still an int (see PTB_TIMEDELTA).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def retry_seconds(error: RetryAfter) -> float:
    """Seconds PTB was told to wait (an int, or a timedelta with PTB_TIMEDELTA set)."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def test_limits_off_by_default(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    for n in range(10):
        await bot.send_message(USER, f"m{n}")
    assert server.stats()["rate_limited"] == 0


async def test_per_chat_limit_maps_to_retry_after(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    server.set_limits(enabled=True, per_chat_per_sec=1, burst=3)
    for n in range(3):
        await bot.send_message(USER, f"burst {n}")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "one too many")
    assert retry_seconds(info.value) >= 1
    sent = server.messages(USER)[-1]
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("edits count too", USER, sent.message_id)
    assert server.stats()["rate_limited"] == 2
    assert server.calls[-1].status == 429


async def test_group_limit_per_minute(server: BotApiServer, bot: Bot) -> None:
    server.add_group(-3, "Gruppe")
    server.set_member(-3, bot.id, "member")
    server.set_limits(enabled=True, per_chat_per_sec=1000, burst=1000, per_group_per_min=5)
    for n in range(5):
        await bot.send_message(-3, f"g{n}")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(-3, "g5")
    assert retry_seconds(info.value) > 50


async def test_overall_limit(server: BotApiServer, bot: Bot) -> None:
    server.set_limits(enabled=True, per_chat_per_sec=100, burst=100, overall_per_sec=4)
    for user_id in range(1, 6):
        server.add_user(user_id, f"U{user_id}")
        server.send_text(user_id, "/start")
    for user_id in range(1, 5):
        await bot.send_message(user_id, "hi")
    with pytest.raises(RetryAfter):
        await bot.send_message(5, "hi")


async def test_fault_count_and_status(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    server.inject_fault("sendMessage", status=429, count=1, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "a")
    assert retry_seconds(info.value) == 3
    assert (await bot.send_message(USER, "b")).text == "b"
    server.inject_fault(["sendMessage"], status=403, chat_id=USER)
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "c")
    server.inject_fault(status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_me()
    server.inject_fault("getMe", status=500)
    with pytest.raises(NetworkError):
        await bot.get_me()
    assert [m.text for m in server.messages(USER)] == ["b"]
    assert server.stats()["faults"] == 4


async def test_fault_rate(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    server.inject_fault("sendMessage", status=429, rate=0.5)
    refused = 0
    for n in range(40):
        try:
            await bot.send_message(USER, f"m{n}")
        except RetryAfter:
            refused += 1
    assert 8 <= refused <= 32
    server.reset()
    await bot.send_message(USER, "after reset")


async def test_latency(server: BotApiServer, bot: Bot) -> None:
    # Half a second, so that a loaded test machine (four workers on two cores) stays far
    # from the bound that tells "latency" from "no latency".
    server.set_latency(0.5, jitter=0.01)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.48
    server.reset()
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started < 0.35

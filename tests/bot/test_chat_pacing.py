"""Per-chat pacing in the rate limiter: paces one chat, replies first, forgets quiet chats."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.metrics import CountingRateLimiter, Metrics
from bot.pacing import Slots, turn


async def _ok(*_args: Any, **_kwargs: Any) -> bool:
    return True


def _limiter() -> CountingRateLimiter:
    return CountingRateLimiter(Metrics(), overall_max_rate=0, group_max_rate=0)


async def _send(limiter: CountingRateLimiter, chat_id: int | str) -> None:
    await limiter.process_request(_ok, (), {}, "sendMessage", {"chat_id": chat_id}, None)


async def test_a_third_message_to_one_chat_waits() -> None:
    limiter = _limiter()
    began = time.monotonic()
    async with turn(Slots(1)):  # replies to an update: a person's own action
        for _ in range(2):
            await _send(limiter, 4242)
        assert time.monotonic() - began < 0.5  # a burst of two goes through at once
        await _send(limiter, "4242")  # multipart requests carry the chat id as text
        assert time.monotonic() - began >= 1.0  # the third waits for the bucket to drain


async def test_background_messages_leave_the_burst_to_replies() -> None:
    limiter = _limiter()
    began = time.monotonic()
    # Two reminders (outside any update) and then the person's reply, all at once.
    reminders = [asyncio.create_task(_send(limiter, 4242)) for _ in range(2)]
    await asyncio.sleep(0)
    async with turn(Slots(1)):
        await _send(limiter, 4242)
    assert time.monotonic() - began < 0.5  # the reply goes first; one reminder waits
    await asyncio.gather(*reminders)
    assert time.monotonic() - began >= 1.0


async def test_idle_chats_are_forgotten_beyond_the_limit() -> None:
    limiter = _limiter()
    for chat_id in range(1, 10_002):
        await _send(limiter, chat_id)  # one message each: their buckets are not empty yet
    kept = len(limiter._chats)
    assert kept == 10_001
    for chat in limiter._chats.values():
        chat._level = 0.0  # as if they had been quiet for seconds
    await _send(limiter, 20_000)
    assert len(limiter._chats) == 1  # only the chat that just got a message

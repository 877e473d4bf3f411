"""bot/pacing.py: replies overtake background messages; waiting for pacing holds no slot."""

from __future__ import annotations

import asyncio
import time

from bot.app import PACING
from bot.pacing import PacedRateLimiter, PriorityBucket, Slots, off_slot, turn, urgent


async def test_urgent_waiters_are_served_before_background_ones() -> None:
    bucket = PriorityBucket(1, 0.2)  # one message per 0.2 s
    await bucket.acquire(urgent=True)
    order: list[str] = []

    async def take(name: str, first: bool) -> None:
        await bucket.acquire(urgent=first)
        order.append(name)

    background = [asyncio.create_task(take(f"live{n}", False)) for n in range(3)]
    await asyncio.sleep(0)
    reply = asyncio.create_task(take("reply", True))
    await asyncio.gather(*background, reply)
    assert order[0] == "reply"  # queued last, served first
    assert order[1:] == ["live0", "live1", "live2"]


async def test_background_leaves_the_reserve_to_replies() -> None:
    bucket = PriorityBucket(3, 12, reserve=2)
    await bucket.acquire(urgent=False)
    assert not bucket.ready(urgent=False)  # a second live edit would eat the reserve
    began = time.monotonic()
    await bucket.acquire(urgent=True)
    await bucket.acquire(urgent=True)
    assert time.monotonic() - began < 0.1  # a moderator's two replies pass at once


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    # One a half second: had the cancelled waiter kept its turn, this acquire would wait about
    # 0.45 s; done at once, it takes milliseconds (bound 0.3 s for a loaded machine).
    bucket = PriorityBucket(1, 0.5)
    await bucket.acquire()
    waiter = asyncio.create_task(bucket.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0.55)
    began = time.monotonic()
    await bucket.acquire()
    assert time.monotonic() - began < 0.3


async def test_waiting_for_pacing_gives_the_slot_back() -> None:
    slots = Slots(1)
    paced = asyncio.Event()
    done: list[str] = []

    async def flooder() -> None:
        async with turn(slots):
            assert urgent()
            async with off_slot():
                await paced.wait()  # as if waiting for the chat's next token
            done.append("flooder")

    async def other() -> None:
        async with turn(slots):
            done.append("other")

    first = asyncio.create_task(flooder())
    await asyncio.sleep(0.01)
    await asyncio.wait_for(other(), 1)  # gets the only slot while the flooder waits
    paced.set()
    await first
    assert done == ["other", "flooder"]
    assert slots.in_use == 0


async def test_tasks_spawned_by_a_handler_are_background() -> None:
    seen: list[bool] = []

    async def spawned() -> None:
        seen.append(urgent())

    async with turn(Slots(1)):
        seen.append(urgent())
        await asyncio.create_task(spawned())
    seen.append(urgent())
    assert seen == [True, False, False]


def _production() -> PacedRateLimiter:
    return PacedRateLimiter(
        overall_max_rate=PACING["overall_max_rate"],
        overall_time_period=PACING["overall_time_period"],
        group_max_rate=PACING["group_max_rate"],
        group_time_period=PACING["group_time_period"],
    )


async def test_replies_to_updates_that_came_together_leave_together() -> None:
    # Production pacing (bot/app.py). Under a flood, polling fetches other users' updates in
    # twos and threes; with a bucket of 1 per 40 ms the second reply waited 40 ms, and the
    # fairness bench's p99 went from 11 to 44 ms. Broadcasts still never burst.
    limiter = _production()
    overall = limiter._overall
    assert overall is not None
    slots = Slots(3)

    async def reply(chat: int) -> None:
        async with turn(slots):
            assert overall.ready(urgent=True), f"the reply to {chat} would wait"
            await limiter.pace(chat)

    for chat in (101, 102, 103):
        await reply(chat)
    assert not overall.ready(urgent=True)  # the burst is spent: the fourth waits its turn

    broadcast = _production()
    assert broadcast._overall is not None
    await broadcast.pace(201)  # outside any update: background
    assert not broadcast._overall.ready(urgent=False)  # the next broadcast message waits
    assert broadcast._overall.ready(urgent=True)  # a reply does not

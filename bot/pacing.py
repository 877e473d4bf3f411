"""Pacing within Telegram's budgets: replies to a person's own action go first.

Two things are shared by everyone: the slots in which updates are processed, and Telegram's
message budgets (about 1/s per private chat, 20/min per group, 30/s overall). An update holds a
slot (`turn`) while its handlers run, but gives it back whenever one of its messages waits for
a budget (`off_slot`): a flood in one chat must not keep the slots that everybody else needs.
Messages sent while an update is processed, by the task that processes it, are urgent; those of
jobs (live message, reminders, broadcasts) and of tasks spawned by handlers are background, and
wait until no urgent message waits for the same budget.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram.ext import AIORateLimiter

Callback = Callable[..., Coroutine[Any, Any, Any]]

# Methods that send or change a message: Telegram counts them against its flood limits.
MESSAGE_METHODS = ("send", "edit", "copy", "forward")
# Telegram allows about 1 message/s per chat with bursts of about 3; a token of slack each.
_CHAT_BURST, _CHAT_PERIOD = 2, 2.5
_CHATS_KEPT = 10_000  # above this, chats whose bucket is empty again are forgotten
_GROUPS_KEPT = 512


class _Waiters:
    """Futures waiting for something, urgent ones served before background ones."""

    def __init__(self) -> None:
        self.queues: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),
            deque(),
        )

    def __bool__(self) -> bool:
        return bool(self.queues[0] or self.queues[1])

    def ahead_of(self, urgent: bool) -> bool:
        """Tells whether anyone waits who is to be served before a newcomer of this kind."""
        return bool(self.queues[0]) if urgent else bool(self)

    def enqueue(self, urgent: bool) -> asyncio.Future[None]:
        """Queues up a future that wake_one will complete."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queues[0 if urgent else 1].append(future)
        return future

    async def wait(self, future: asyncio.Future[None], on_cancel: Callable[[], None]) -> None:
        """Waits to be woken; on_cancel gives back what was granted too late."""
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                on_cancel()  # granted, then cancelled before it could be used
            for queue in self.queues:
                if future in queue:
                    queue.remove(future)
            raise

    def wake_one(self, *, background: bool = True) -> bool:
        """Wakes the first waiter (urgent first; background ones only if allowed)."""
        for queue in self.queues if background else self.queues[:1]:
            while queue:
                future = queue.popleft()
                if not future.done():
                    future.set_result(None)
                    return True
        return False


class PriorityBucket:
    """A leaky bucket like aiolimiter's (max_rate at once, draining at max_rate per
    time_period) whose waiters are served urgent first, then in arrival order.

    The last `reserve` tokens are for urgent messages only: background ones leave them, so
    that a moderator's reply finds room at once instead of waiting for the bucket to drain.
    """

    def __init__(self, max_rate: float, time_period: float = 60, *, reserve: int = 0) -> None:
        self.max_rate = max_rate
        self.time_period = time_period
        self.reserve = reserve
        self._rate_per_sec = max_rate / time_period
        self._level = 0.0
        self._last = time.monotonic()
        self._waiters = _Waiters()
        self._timer: asyncio.TimerHandle | None = None

    def _leak(self) -> None:
        now = time.monotonic()
        self._level = max(0.0, self._level - (now - self._last) * self._rate_per_sec)
        self._last = now

    def has_capacity(self, amount: float = 1) -> bool:
        """Tells whether amount could be taken now."""
        self._leak()
        return self._level + amount <= self.max_rate

    def _room(self, urgent: bool) -> float:
        return 1 if urgent else 1 + self.reserve

    def ready(self, *, urgent: bool) -> bool:
        """Tells whether a message of this kind would pass at once."""
        return not self._waiters.ahead_of(urgent) and self.has_capacity(self._room(urgent))

    async def acquire(self, *, urgent: bool = True) -> None:
        """Waits until this bucket lets one more message through."""
        if self.ready(urgent=urgent):
            self._level += 1
            return
        future = self._waiters.enqueue(urgent)
        self._schedule()
        await self._waiters.wait(future, self._give_back)

    def _give_back(self) -> None:
        self._level = max(0.0, self._level - 1)
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:  # an urgent newcomer may need an earlier wake-up
            self._timer.cancel()
            self._timer = None
        if not self._waiters:
            return
        self._leak()
        room = self._room(bool(self._waiters.queues[0]))
        delay = max(0.0, (self._level + room - self.max_rate) / self._rate_per_sec)
        self._timer = asyncio.get_running_loop().call_later(delay, self._wake)

    def _wake(self) -> None:
        self._timer = None
        while self.has_capacity() and self._waiters.wake_one(
            background=self.has_capacity(self._room(False))
        ):
            self._level += 1
        self._schedule()


class Slots:
    """The shared slots for processing updates; an update resuming after pacing goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = size
        self._waiters = _Waiters()

    @property
    def in_use(self) -> int:
        """How many slots are taken."""
        return self.size - self._free

    async def acquire(self, *, resume: bool = False) -> None:
        """Waits for a free slot; resume=True for an update that gave its slot back."""
        if self._free > 0 and not self._waiters.ahead_of(resume):
            self._free -= 1
            return
        await self._waiters.wait(self._waiters.enqueue(resume), self.release)

    def release(self) -> None:
        """Hands the slot to the next waiter, or frees it."""
        if not self._waiters.wake_one():
            self._free += 1


@dataclass(eq=False)
class _Turn:
    slots: Slots
    task: asyncio.Task[Any] | None
    held: bool = True


# A mutable object in a context variable, as in handlers/core/outcome.py: tasks and timers created
# while an update is processed copy the context, so the turn names the task it belongs to.
_TURN: ContextVar[_Turn | None] = ContextVar("dteam_turn", default=None)


def _own_turn() -> _Turn | None:
    turn = _TURN.get()
    if turn is None or turn.task is None or turn.task is not asyncio.current_task():
        return None
    return turn


def urgent() -> bool:
    """Tells whether the running code answers a person's own action (an update it processes)."""
    return _own_turn() is not None


@asynccontextmanager
async def turn(slots: Slots) -> AsyncIterator[None]:
    """Holds a slot while the current task processes one update; its messages are urgent."""
    await slots.acquire()
    mine = _Turn(slots, asyncio.current_task())
    token = _TURN.set(mine)
    try:
        yield
    finally:
        _TURN.reset(token)
        mine.task = None
        if mine.held:
            mine.held = False
            slots.release()


@asynccontextmanager
async def off_slot() -> AsyncIterator[None]:
    """Gives the current update's slot back while waiting, and takes it again after."""
    mine = _own_turn()
    if mine is None or not mine.held:
        yield
        return
    mine.held = False
    mine.slots.release()
    cancelled = False
    try:
        yield
    except asyncio.CancelledError:
        cancelled = True  # leave at once, without a slot
        raise
    finally:
        if not cancelled:
            await mine.slots.acquire(resume=True)
            mine.held = True


def _private_chat(value: object) -> int | None:
    """Returns the id of a private chat (positive)."""
    return value if isinstance(value, int) and value > 0 else None


class PacedRateLimiter(AIORateLimiter):
    """Paces messages per private chat, per group and overall, urgent ones first.

    PTB's AIORateLimiter paces only the whole bot and groups, first come first served, and
    counts every request with a chat id (getChatMember too). Here only messages count, as at
    Telegram; a participant tapping faster than ~1 message/s waits in their own chat instead
    of drawing a 429 that would pause everyone; and a reply to a moderator's command overtakes
    the live message's edits queued for the same group. PTB's class still retries on 429.
    """

    def __init__(
        self,
        *,
        pace_chats: bool = True,
        overall_max_rate: float = 30,
        overall_time_period: float = 1,
        group_max_rate: float = 20,
        group_time_period: float = 60,
        max_retries: int = 0,
    ) -> None:
        super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
        self._pace_chats = pace_chats
        self._chats: dict[int, PriorityBucket] = {}
        self._groups: dict[int | str, PriorityBucket] = {}
        self._group_rate = (group_max_rate, group_time_period)
        # Background messages (broadcasts, live edits) never burst, here as in groups: the
        # burst is for replies to people, whose updates arrive bunched when many come at once.
        self._overall = (
            PriorityBucket(
                overall_max_rate,
                overall_time_period,
                reserve=max(0, math.ceil(overall_max_rate) - 1),
            )
            if overall_max_rate and overall_time_period
            else None
        )

    def _chat_bucket(self, chat_id: int) -> PriorityBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > _CHATS_KEPT:  # forget idle chats: their bucket is empty
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(_CHAT_BURST)
                }
            bucket = self._chats[chat_id] = PriorityBucket(
                _CHAT_BURST, _CHAT_PERIOD, reserve=_CHAT_BURST - 1
            )
        return bucket

    def _group_bucket(self, chat: int | str) -> PriorityBucket:
        bucket = self._groups.get(chat)
        if bucket is None:
            rate, period = self._group_rate
            if len(self._groups) > _GROUPS_KEPT:
                self._groups = {k: v for k, v in self._groups.items() if not v.has_capacity(rate)}
            # Background messages (live edits) never burst: the burst is kept for people.
            reserve = max(0, math.ceil(rate) - 1)
            bucket = self._groups[chat] = PriorityBucket(rate, period, reserve=reserve)
        return bucket

    def _buckets(self, chat: object) -> list[PriorityBucket]:
        buckets: list[PriorityBucket] = []
        if self._pace_chats and isinstance(chat, int):  # ~1/s in any chat, groups too
            buckets.append(self._chat_bucket(chat))
        if _private_chat(chat) is None and isinstance(chat, int | str) and all(self._group_rate):
            buckets.append(self._group_bucket(chat))
        if self._overall is not None and chat is not None:
            buckets.append(self._overall)
        return buckets

    async def pace(self, chat: object) -> None:
        """Waits until a message to chat fits every budget it counts against."""
        buckets = self._buckets(chat)
        first = urgent()
        if all(b.ready(urgent=first) for b in buckets):
            for bucket in buckets:
                await bucket.acquire(urgent=first)  # passes at once
            return
        async with off_slot():
            for bucket in buckets:
                await bucket.acquire(urgent=first)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Waits for the message's budgets (if it is one), then sends it with PTB's retries."""
        if endpoint.lower().startswith(MESSAGE_METHODS):
            chat = data.get("chat_id")
            if isinstance(chat, str) and chat.lstrip("-").isdigit():
                chat = int(chat)  # multipart requests carry the id as text
            await self.pace(chat)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )

"""Runs updates concurrently, one at a time per user, in arrival order, and fairly.

Each update passes three gates, in this order:
1. its sender's queue (USER_QUEUE updates pending) and, in a group, the group's (GROUP_QUEUE);
   beyond that it is a flood (40 forwarded messages, a group spamming commands) and is dropped,
   counted and logged, so a flood costs memory and time only up to the bound;
2. its sender's lock, so that one person's taps apply in the order they were made;
3. a shared slot (bot/pacing.py), which it gives back while its replies wait for Telegram's
   pacing. Waiting in a queue or on a lock holds no slot, so nobody waits behind a flood.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot.pacing import Slots, turn
from handlers.core import outcome
from handlers.core.context import Services

log = logging.getLogger(__name__)

USER_QUEUE = 8  # updates one person may have pending (the one being processed included)
GROUP_QUEUE = 16  # updates one group chat may have pending
LOG_EVERY = 100  # during a flood, one log line per this many dropped updates


def _keys(update: object) -> tuple[int | None, int | None]:
    """Returns (the sender's key, the group chat's id if the update comes from a group)."""
    if not isinstance(update, Update):
        return None, None
    chat = update.effective_chat
    group = chat.id if chat is not None and chat.type != chat.PRIVATE else None
    if update.effective_user is not None:
        return update.effective_user.id, group
    return (chat.id, None) if chat is not None else (None, None)


def _id(update: object) -> object:
    if isinstance(update, Mapping):
        return update.get("update_id", "?")
    return getattr(update, "update_id", "?")


def _kind(update: object) -> str:
    if isinstance(update, Mapping):
        return "message"  # refuses() drops only messages unparsed
    if isinstance(update, Update):
        if update.callback_query is not None:
            return "button"
        if update.effective_message is not None:
            return "message"
    return type(update).__name__


class PerUserProcessor(BaseUpdateProcessor):
    """Concurrent across users; serial per user; a short queue per user and per group."""

    def __init__(
        self,
        max_concurrent_updates: int,
        on_done: Callable[[outcome.UpdateOutcome], None] | None = None,
        on_dropped: Callable[[object], None] | None = None,
        *,
        user_queue: int = USER_QUEUE,
        group_queue: int = GROUP_QUEUE,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._slots = Slots(max_concurrent_updates)
        self._on_done = on_done
        self._on_dropped = on_dropped
        self._bounds = (user_queue, group_queue)
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}  # users (positive ids) and groups (negative)
        self._closing = False
        self._dropped: dict[int, int] = {}  # updates dropped per flood, for the log

    @property
    def current_concurrent_updates(self) -> int:
        """The number of updates holding a slot right now."""
        return self._slots.in_use

    # PTB's final process_update takes a shared slot first and only then calls
    # do_process_update: a flood waiting for its sender's lock held every slot. Here the
    # queue and the lock come first, and the slot last (see the module docstring).
    async def process_update(  # type: ignore[misc]
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        """Admits the update to its queues, then runs it in its sender's order with a slot."""
        # The webhook starts tracking before it hands the update here; polling does not.
        tracked = outcome.current(update) or outcome.track(update)
        user, group = _keys(update)
        if not self._admit(update, user, group):
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never awaited: nothing of it ran
            if self._on_dropped is not None:
                self._on_dropped(update)
            return
        try:
            if user is None:
                await self.do_process_update(update, coroutine)
            else:
                async with self._locks.setdefault(user, asyncio.Lock()):
                    await self.do_process_update(update, coroutine)
        finally:
            if inspect.iscoroutine(coroutine) and (
                inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED
            ):
                coroutine.close()  # cancelled or stopped while it waited: nothing of it ran
            self._leave(user, group)
            if self._on_done is not None:
                self._on_done(tracked)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Awaits the handler coroutine in a shared slot, unless the bot is stopping."""
        async with turn(self._slots):
            if self._closing and self._flooding(update):
                log.info("update %s of a flood not processed: the bot is stopping", _id(update))
                if outcome.will_be_redelivered():
                    outcome.failed(RuntimeError("stopping"), retry=True)  # webhook: 500
                return
            await coroutine

    def close_queues(self) -> None:
        """Lets a flood's updates still waiting in a queue go unprocessed from now on.

        Called when the bot stops, which otherwise waits for a flood's paced replies (a group's
        16 take a minute). Only queues that dropped updates are skipped: a participant's tap
        fetched just before the stop is still processed, as before. A skipped webhook update
        is answered 500, so Telegram delivers it again later.
        """
        self._closing = True

    def refuses(self, raw: Mapping[str, Any]) -> bool:
        """Drops a flood's message before it is parsed; True if it was dropped.

        Parsing an update costs more than everything else a dropped one costs: a flood of
        100 texts a second is refused here, from the sender's id in the raw JSON, at the same
        bound and with the same count and log as in process_update. Button presses are left
        to process_update, which answers a dropped one with a toast.
        """
        message = raw.get("message") or raw.get("edited_message")
        if not isinstance(message, dict):
            return False
        sender, chat = message.get("from"), message.get("chat")
        if not isinstance(sender, dict) or not isinstance(chat, dict):
            return False
        user, chat_id = sender.get("id"), chat.get("id")
        if type(user) is not int or type(chat_id) is not int:
            return False
        group = chat_id if chat.get("type") != "private" else None
        if not self._full(raw, user, group):
            return False
        if self._on_dropped is not None:
            self._on_dropped(raw)
        return True

    def _flooding(self, update: object) -> bool:
        return any(key in self._dropped for key in _keys(update) if key is not None)

    def _full(self, update: object, user: int | None, group: int | None) -> bool:
        """True (and the drop logged) if the sender's or the group's queue is at its bound."""
        for key, bound in ((user, self._bounds[0]), (group, self._bounds[1])):
            if key is not None and self._pending.get(key, 0) >= bound:
                self._log_drop(update, key, "user" if key == user else "group")
                return True
        return False

    def _admit(self, update: object, user: int | None, group: int | None) -> bool:
        if self._full(update, user, group):
            return False
        for key in {user, group} - {None}:
            assert key is not None
            self._pending[key] = self._pending.get(key, 0) + 1
        return True

    def _log_drop(self, update: object, key: int, kind: str) -> None:
        # A flood must not flood the log as well: its first drop, then every LOG_EVERY-th,
        # and the total once its queue is empty again (_leave).
        n = self._dropped[key] = self._dropped.get(key, 0) + 1
        if n == 1 or n % LOG_EVERY == 0:
            log.info(
                "update %s (%s) dropped: %s %s has %d pending; %d dropped in this flood",
                _id(update),
                _kind(update),
                kind,
                key,
                self._pending[key],
                n,
            )

    def _leave(self, user: int | None, group: int | None) -> None:
        for key in {user, group} - {None}:
            assert key is not None
            self._pending[key] -= 1
            if not self._pending[key]:
                del self._pending[key]
                self._locks.pop(key, None)
                if (dropped := self._dropped.pop(key, 0)) > 1:
                    log.info("flood of %s over: %d updates dropped", key, dropped)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def dropped_notice(
    services: Services, count: Callable[[object], None]
) -> Callable[[object], None]:
    """Returns on_dropped: counts the update and, for a button, asks the person to tap again.

    A dropped button press stored nothing; the toast says so instead of leaving a spinner.
    """
    answering: set[asyncio.Task[None]] = set()

    def dropped(update: object) -> None:
        count(update)
        query = update.callback_query if isinstance(update, Update) else None
        if query is None:
            return
        text = services.texts.plain(query.from_user.language_code, "errors.busy")
        task = asyncio.get_running_loop().create_task(_answer(query, text))
        answering.add(task)
        task.add_done_callback(answering.discard)

    return dropped


async def _answer(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(text)
    except TelegramError as exc:  # the toast is a courtesy; the flood goes on regardless
        log.info("could not answer dropped button press: %s", exc)

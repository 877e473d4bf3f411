"""Runs updates concurrently, but one at a time per user, in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers import outcome


def _key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat is not None else None


class PerUserProcessor(BaseUpdateProcessor):
    """Concurrent across users; serial per user, so one person's taps apply in order."""

    def __init__(
        self,
        max_concurrent_updates: int,
        on_done: Callable[[outcome.Outcome], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._on_done = on_done
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Awaits the handler coroutine while holding the user's lock."""
        # The webhook starts tracking before it hands the update here; polling does not.
        tracked = outcome.current(update) or outcome.track(update)
        try:
            await self._serialised(update, coroutine)
        finally:
            if self._on_done is not None:
                self._on_done(tracked)

    async def _serialised(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

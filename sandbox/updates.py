"""Per-bot update queue: offset confirmation, long polling and webhook hand-off."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import CONFLICT_POLLER, ApiError

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_POLL_TIMEOUT = 50.0
UPDATE_TTL = 24 * 3600.0
CALLBACK_TTL = 150.0
EXPIRE_EVERY = 1.0  # seconds between sweeps for expired updates (a sweep reads them all)


@dataclass
class PendingUpdate:
    """An update waiting for confirmation (polling) or delivery (webhook)."""

    update_id: int
    payload: dict[str, Any]
    kind: str
    key: str
    created: float = field(default_factory=time.monotonic)
    attempts: int = 0
    next_try: float = 0.0
    serial: int = 0  # the queue's own order: update_ids may repeat (redelivery tests)

    @property
    def ttl(self) -> float:
        """How long Telegram keeps trying to deliver this kind of update."""
        return CALLBACK_TTL if self.kind == "callback_query" else UPDATE_TTL


def update_kind(payload: dict[str, Any]) -> str:
    """Return the update type: the first field that is not ``update_id``."""
    return next((k for k in payload if k != "update_id"), "unknown")


def ordering_key(payload: dict[str, Any], kind: str) -> str:
    """Return the key Telegram serialises webhook deliveries by: chat, or user for callbacks."""
    body = payload.get(kind)
    if not isinstance(body, dict):
        return kind
    if kind == "callback_query":
        sender = body.get("from")
        return f"user:{sender.get('id') if isinstance(sender, dict) else None}"
    chat = body.get("chat")
    if isinstance(chat, dict):
        return f"chat:{chat.get('id')}"
    sender = body.get("from")
    if isinstance(sender, dict):
        return f"user:{sender.get('id')}"
    return kind


class UpdateQueue:
    """Updates of one bot, served by ``getUpdates`` or handed to the webhook deliverer.

    Kept in arrival order and, for the webhook, in one line per ordering key, so that a flood
    piling up in one chat costs each delivery O(1) instead of a pass over everything pending.
    """

    def __init__(self, first_update_id: int = 10_000_001) -> None:
        self.next_id = first_update_id
        self._items: dict[int, PendingUpdate] = {}  # by serial, in arrival order
        self._lines: dict[str, deque[PendingUpdate]] = {}  # per ordering key, in arrival order
        self._serials = itertools.count()
        self._swept = float("-inf")
        self.allowed: frozenset[str] | None = None
        self._changed = asyncio.Event()
        self._poller: object | None = None
        self._terminated: set[object] = set()

    @property
    def pending(self) -> list[PendingUpdate]:
        """Every update waiting, oldest first."""
        return list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def heads(self) -> Iterator[PendingUpdate]:
        """The oldest update of each ordering key (the only one a webhook may deliver)."""
        return (line[0] for line in self._lines.values())

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def poke(self) -> None:
        """Wake everyone waiting on this queue (a delivery finished)."""
        self._wake()

    async def changed(self, seconds: float) -> None:
        """Wait until the queue changes or ``seconds`` pass."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return

    def push(self, payload: dict[str, Any]) -> int:
        """Store an update, assigning the next ``update_id`` unless it already has one."""
        if "update_id" not in payload:
            payload = {"update_id": self.next_id, **payload}
            self.next_id += 1
        raw_id = payload["update_id"]
        update_id = raw_id if isinstance(raw_id, int) else self.next_id - 1
        kind = update_kind(payload)
        key = ordering_key(payload, kind)
        item = PendingUpdate(update_id, payload, kind, key, serial=next(self._serials))
        self._items[item.serial] = item
        self._lines.setdefault(key, deque()).append(item)
        self._wake()
        return update_id

    def _keep(self, keep: Callable[[PendingUpdate], bool]) -> None:
        """Forget every update for which keep is false."""
        gone = [u for u in self._items.values() if not keep(u)]
        for item in gone:
            self.remove(item)

    def is_allowed(self, item: PendingUpdate) -> bool:
        """Whether the bot's ``allowed_updates`` setting lets this update through."""
        if self.allowed is None:
            return item.kind not in DEFAULT_EXCLUDED
        return item.kind in self.allowed

    def set_allowed(self, allowed: Any) -> None:
        """Apply an ``allowed_updates`` parameter (None keeps the previous setting)."""
        if allowed is None:
            return
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        self.allowed = frozenset(str(a) for a in allowed) if allowed else None

    def expire(self, *, now: bool = False) -> None:
        """Drop updates older than Telegram keeps them and those the bot does not want.

        A sweep reads every pending update, so it runs at most every EXPIRE_EVERY seconds
        (the lifetimes are minutes and hours), unless asked to sweep now; readers skip unwanted
        updates themselves meanwhile.
        """
        at = time.monotonic()
        if not now and at - self._swept < EXPIRE_EVERY:
            return
        self._swept = at
        self._keep(lambda u: at - u.created < u.ttl and self.is_allowed(u))

    def _first(self, limit: int) -> list[PendingUpdate]:
        """The oldest updates the bot wants, at most limit; forgets unwanted ones before them."""
        first: list[PendingUpdate] = []
        unwanted: list[PendingUpdate] = []
        for item in self._items.values():
            if len(first) >= limit:
                break
            (first if self.is_allowed(item) else unwanted).append(item)
        for item in unwanted:
            self.remove(item)
        return first

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        if offset > 0:
            self._keep(lambda u: u.update_id >= offset)
        elif offset < 0:
            kept = {u.serial for u in self.pending[offset:]}
            self._keep(lambda u: u.serial in kept)

    def drop_all(self) -> None:
        """Forget every pending update (``drop_pending_updates``)."""
        self._items.clear()
        self._lines.clear()
        self._wake()

    def remove(self, item: PendingUpdate) -> None:
        """Forget one update (after a successful webhook delivery: the head of its line)."""
        if self._items.pop(item.serial, None) is not item:
            return
        line = self._lines[item.key]
        if line[0] is item:
            line.popleft()
        else:
            line.remove(item)
        if not line:
            del self._lines[item.key]

    def terminate_poller(self) -> None:
        """End a waiting ``getUpdates`` call with 409 (a webhook was set or a new poller came)."""
        if self._poller is not None:
            self._terminated.add(self._poller)
            self._poller = None
            self._wake()

    async def get(self, offset: int, limit: int, poll: float) -> list[dict[str, Any]]:
        """Serve one ``getUpdates`` call: confirm, then return or long-poll for updates."""
        self.terminate_poller()
        me = object()
        self._poller = me
        try:
            self.confirm(offset)
            deadline = time.monotonic() + min(max(poll, 0.0), MAX_POLL_TIMEOUT)
            while True:
                if me in self._terminated:
                    self._terminated.discard(me)
                    raise ApiError(409, CONFLICT_POLLER)
                self.expire()
                if first := self._first(max(1, min(limit, 100))):
                    return [u.payload for u in first]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                await self.changed(remaining)
        finally:
            if self._poller is me:
                self._poller = None
            self._terminated.discard(me)

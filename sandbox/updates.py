"""Per-bot update queue: offset confirmation, long polling and webhook hand-off."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.errors import CONFLICT_POLLER, ApiError

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_POLL_TIMEOUT = 50.0
UPDATE_TTL = 24 * 3600.0
CALLBACK_TTL = 150.0


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
    """Updates of one bot, served by ``getUpdates`` or handed to the webhook deliverer."""

    def __init__(self, first_update_id: int = 10_000_001) -> None:
        self.next_id = first_update_id
        self.pending: list[PendingUpdate] = []
        self.allowed: frozenset[str] | None = None
        self._changed = asyncio.Event()
        self._poller: object | None = None
        self._terminated: set[object] = set()

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
        self.pending.append(PendingUpdate(update_id, payload, kind, ordering_key(payload, kind)))
        self._wake()
        return update_id

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

    def expire(self) -> None:
        """Drop updates older than Telegram keeps them and those the bot does not want."""
        now = time.monotonic()
        self.pending = [u for u in self.pending if now - u.created < u.ttl and self.is_allowed(u)]

    def confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        if offset > 0:
            self.pending = [u for u in self.pending if u.update_id >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]

    def drop_all(self) -> None:
        """Forget every pending update (``drop_pending_updates``)."""
        self.pending.clear()
        self._wake()

    def remove(self, item: PendingUpdate) -> None:
        """Forget one update after successful webhook delivery."""
        if item in self.pending:
            self.pending.remove(item)

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
                if self.pending:
                    return [u.payload for u in self.pending[: max(1, min(limit, 100))]]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                await self.changed(remaining)
        finally:
            if self._poller is me:
                self._poller = None
            self._terminated.discard(me)

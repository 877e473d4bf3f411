"""Python API to read what the bot sent: messages, calls, callback answers, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox.driver import Driver
from sandbox.models import JSON, StoredMessage
from sandbox.state import CallRecord

Predicate = Callable[[StoredMessage], bool]


class Outbox(Driver):
    """Reading the outbox; base of ``BotApiServer``."""

    def messages(self, chat_id: int, token: str | None = None) -> list[StoredMessage]:
        """The bot's messages in ``chat_id`` in their current state (deleted ones flagged)."""
        stored = self.bot_state(token).chats.get(chat_id, {})
        return sorted((m for m in stored.values() if m.from_bot), key=lambda m: m.message_id)

    def history(self, chat_id: int, token: str | None = None) -> list[StoredMessage]:
        """Every message in ``chat_id``, the users' included, by message id."""
        stored = self.bot_state(token).chats.get(chat_id, {})
        return sorted(stored.values(), key=lambda m: m.message_id)

    def last_message(self, chat_id: int, token: str | None = None) -> StoredMessage | None:
        """The bot's newest message in ``chat_id`` that was not deleted."""
        alive = [m for m in self.messages(chat_id, token) if not m.deleted]
        return alive[-1] if alive else None

    @property
    def calls(self) -> list[CallRecord]:
        """Chronological log of Bot API calls (method, params, status, timestamp)."""
        return list(self.world.calls)

    def calls_to(self, method: str) -> list[CallRecord]:
        """Logged calls of one method (case-insensitive)."""
        name = method.lower()
        return [c for c in self.world.calls if c.method.lower() == name]

    def callback_answer(self, query_id: str, token: str | None = None) -> JSON | None:
        """How the bot answered a callback query, or None while unanswered."""
        query = self.bot_state(token).callback_queries.get(query_id)
        return None if query is None else query.answer

    def mark(self) -> int:
        """Current change sequence number; pass as ``since`` to wait only for newer changes."""
        return self.world.notifier.seq

    def find(
        self,
        predicate: Predicate,
        *,
        chat_id: int | None = None,
        since: int | None = None,
        token: str | None = None,
    ) -> StoredMessage | None:
        """The most recently changed bot message matching ``predicate`` (and filters)."""
        bot = self.bot_state(token)
        chats = [bot.chats.get(chat_id, {})] if chat_id is not None else list(bot.chats.values())
        best: StoredMessage | None = None
        for stored in chats:
            for message in stored.values():
                if not message.from_bot or (since is not None and message.seq <= since):
                    continue
                if (best is None or message.seq > best.seq) and predicate(message):
                    best = message
        return best

    async def wait_for(
        self,
        predicate: Predicate,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented test API
        *,
        chat_id: int | None = None,
        since: int | None = None,
        token: str | None = None,
    ) -> StoredMessage:
        """Wait until a bot message matches ``predicate``; TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        notifier = self.world.notifier
        while True:
            found = self.find(predicate, chat_id=chat_id, since=since, token=token)
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await notifier.wait(remaining, chat_id):
                found = self.find(predicate, chat_id=chat_id, since=since, token=token)
                if found is not None:
                    return found
                raise TimeoutError(f"no matching bot message within {timeout} s")

    async def wait_for_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the documented test API
        token: str | None = None,
    ) -> JSON:
        """Wait until the bot answered callback query ``query_id``."""
        deadline = time.monotonic() + timeout
        while (answer := self.callback_answer(query_id, token)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.world.notifier.wait(remaining):
                if (answer := self.callback_answer(query_id, token)) is not None:
                    return answer
                raise TimeoutError(f"callback query {query_id} not answered within {timeout} s")
        return answer

"""A bounded cache of Telegram's answers about a user in a chat (admin? member?)."""

from __future__ import annotations

from collections import OrderedDict

CACHE_ENTRIES = 4096  # (chat, user) answers kept; the least recently used go first
HINT_ENTRIES = 16384


class MemberCache:
    """Answers about a user in a chat (admin? member?), for a while, bounded (LRU)."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, int], tuple[float, bool]] = OrderedDict()

    def __len__(self) -> int:
        """Returns the number of cached answers."""
        return len(self._entries)

    def get(self, chat_id: int, user_id: int, *, now: float, max_age: float) -> bool | None:
        """Returns the cached answer if younger than max_age seconds, else None."""
        key = (chat_id, user_id)
        hit = self._entries.get(key)
        if hit is None:
            return None
        if now - hit[0] >= max_age:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return hit[1]

    def put(self, chat_id: int, user_id: int, allowed: bool, *, now: float) -> None:
        """Stores an answer, dropping the least recently used beyond max_entries."""
        key = (chat_id, user_id)
        self._entries[key] = (now, allowed)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, chat_id: int, user_id: int) -> bool:
        """Drops the answer for this user in this chat; True if there was one."""
        return self._entries.pop((chat_id, user_id), None) is not None

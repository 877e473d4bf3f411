"""Who may moderate: the group's current administrators and DTEAM_MODERATORS."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler

from handlers.context import DTeamContext, Services

log = logging.getLogger(__name__)

_ADMIN = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
_CACHE_KEY = "admin_cache"
CACHE_ENTRIES = 4096  # (chat, user) answers kept; the least recently used go first


class AdminCache:
    """Telegram's answers to "is this user an admin here?", for a few seconds, bounded (LRU)."""

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


def admin_cache(services: Services) -> AdminCache:
    """Returns the process's admin cache, created on first use."""
    cache = services.extra.get(_CACHE_KEY)
    if not isinstance(cache, AdminCache):
        cache = services.extra[_CACHE_KEY] = AdminCache()
    return cache


async def is_moderator(ctx: DTeamContext, chat_id: int, user_id: int) -> bool:
    """Tells whether the user may moderate the chat (admins are asked, briefly cached)."""
    services = ctx.services
    if user_id in services.moderators:
        return True
    if chat_id == user_id:  # a private chat has no admins besides the configured moderators
        return False
    cache, now = admin_cache(services), time.monotonic()
    hit = cache.get(chat_id, user_id, now=now, max_age=services.admin_cache_seconds)
    if hit is not None:
        return hit
    try:
        member = await ctx.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("could not ask Telegram whether %s is admin of %s: %s", user_id, chat_id, exc)
        return False
    allowed = member.status in _ADMIN
    cache.put(chat_id, user_id, allowed, now=now)
    return allowed


async def on_member_change(update: Update, ctx: DTeamContext) -> None:
    """Forgets a user's cached rights in a chat as soon as Telegram reports a change there.

    Telegram reports member changes only to bots that administer the group; elsewhere a
    demoted admin keeps the rights until the cached answer expires.
    """
    change = update.chat_member
    if change is None:
        return
    chat_id, user_id = change.chat.id, change.new_chat_member.user.id
    if admin_cache(ctx.services).forget(chat_id, user_id):
        log.info("member change of %s in %s: cached rights dropped", user_id, chat_id)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns the handler that keeps the admin cache in step with member changes."""
    return [ChatMemberHandler(on_member_change, ChatMemberHandler.CHAT_MEMBER)]

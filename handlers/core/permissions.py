"""Who may moderate (the group's administrators and DTEAM_MODERATORS), and who is in a group.

Telegram's answers are kept briefly in bounded caches; member changes Telegram reports
(to a bot that administers the group) update them at once.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from telegram import ChatMember, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler

from handlers.core.context import DTeamContext, Services

log = logging.getLogger(__name__)

_ADMIN = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
_MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
_CACHE_KEY = "admin_cache"
_MEMBERSHIP_KEY = "membership_cache"
_HINTS_KEY = "member_hints"
CACHE_ENTRIES = 4096  # (chat, user) answers kept; the least recently used go first
HINT_ENTRIES = 16384
MEMBERSHIP_SECONDS = 300.0  # how long "is in the group" (or not) is taken as known
HINT_SECONDS = 86400.0  # a reported join still says where to look first


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


def _cache(services: Services, key: str, max_entries: int) -> MemberCache:
    cache = services.extra.get(key)
    if not isinstance(cache, MemberCache):
        cache = services.extra[key] = MemberCache(max_entries)
    return cache


def admin_cache(services: Services) -> MemberCache:
    """Returns the process's cache of "is an admin of the group"."""
    return _cache(services, _CACHE_KEY, CACHE_ENTRIES)


def membership_cache(services: Services) -> MemberCache:
    """Returns the process's cache of "is a member of the group" (Telegram's answers)."""
    return _cache(services, _MEMBERSHIP_KEY, CACHE_ENTRIES)


def member_hints(services: Services) -> MemberCache:
    """Returns the joins and leaves Telegram reported: where to look first, not proof."""
    return _cache(services, _HINTS_KEY, HINT_ENTRIES)


def is_member_status(member: ChatMember) -> bool:
    """Tells whether a ChatMember is in the group (a restricted user may be, too)."""
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _MEMBER


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
    # The same answer says whether they are in the group: a bare /start needn't ask again.
    membership_cache(services).put(chat_id, user_id, is_member_status(member), now=now)
    return allowed


async def on_member_change(update: Update, ctx: DTeamContext) -> None:
    """Forgets a user's cached rights in a chat as soon as Telegram reports a change there.

    Telegram reports member changes only to bots that administer the group; elsewhere a
    demoted admin keeps the rights until the cached answer expires.
    """
    change = update.chat_member
    if change is None:
        return
    services, now = ctx.services, time.monotonic()
    chat_id, user_id = change.chat.id, change.new_chat_member.user.id
    inside = is_member_status(change.new_chat_member)
    membership_cache(services).put(chat_id, user_id, inside, now=now)
    member_hints(services).put(chat_id, user_id, inside, now=now)
    log.debug("member change of %s in %s: member %s", user_id, chat_id, inside)
    if admin_cache(services).forget(chat_id, user_id):
        log.info("member change of %s in %s: cached rights dropped", user_id, chat_id)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns the handler that keeps the admin cache in step with member changes."""
    return [ChatMemberHandler(on_member_change, ChatMemberHandler.CHAT_MEMBER)]

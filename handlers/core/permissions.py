"""Who may moderate (the group's administrators and DTEAM_MODERATORS), and who is in a group.

Telegram's answers are kept briefly in bounded caches; member changes Telegram reports
(to a bot that administers the group) update them at once.
"""

from __future__ import annotations

import logging
import time

from telegram import ChatMember, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler

from handlers.core.context import DTeamContext

log = logging.getLogger(__name__)

_ADMIN = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
_MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
MEMBERSHIP_SECONDS = 300.0  # how long "is in the group" (or not) is taken as known
HINT_SECONDS = 86400.0  # a reported join still says where to look first


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
    cache, now = services.admin_cache, time.monotonic()
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
    services.membership_cache.put(chat_id, user_id, is_member_status(member), now=now)
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
    services.membership_cache.put(chat_id, user_id, inside, now=now)
    services.member_hints.put(chat_id, user_id, inside, now=now)
    log.debug("member change of %s in %s: member %s", user_id, chat_id, inside)
    if services.admin_cache.forget(chat_id, user_id):
        log.info("member change of %s in %s: cached rights dropped", user_id, chat_id)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns the handler that keeps the admin cache in step with member changes."""
    return [ChatMemberHandler(on_member_change, ChatMemberHandler.CHAT_MEMBER)]

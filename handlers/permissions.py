"""Who may moderate: the group's current administrators and DTEAM_MODERATORS."""

from __future__ import annotations

import logging
import time

from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from handlers.context import DTeamContext

log = logging.getLogger(__name__)

_ADMIN = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
_CACHE_KEY = "admin_cache"


async def is_moderator(ctx: DTeamContext, chat_id: int, user_id: int) -> bool:
    """Tells whether the user may moderate the chat (admins are asked, briefly cached)."""
    services = ctx.services
    if user_id in services.moderators:
        return True
    if chat_id == user_id:  # a private chat has no admins besides the configured moderators
        return False
    cache: dict[tuple[int, int], tuple[float, bool]] = services.extra.setdefault(_CACHE_KEY, {})
    now = time.monotonic()
    hit = cache.get((chat_id, user_id))
    if hit is not None and now - hit[0] < services.admin_cache_seconds:
        return hit[1]
    try:
        member = await ctx.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.warning("could not ask Telegram whether %s is admin of %s: %s", user_id, chat_id, exc)
        return False
    allowed = member.status in _ADMIN
    cache[(chat_id, user_id)] = (now, allowed)
    return allowed

"""The bot object: PTB's ExtBot, tolerant of callback answers that come too late."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from telegram.error import BadRequest
from telegram.ext import BaseRateLimiter, ExtBot

from bot.http import AiohttpRequest
from bot.update_guard import TolerantUpdatesRequest

log = logging.getLogger(__name__)

_TOO_LATE = ("query is too old", "query id is invalid")


class DTeamBot(ExtBot[Any]):
    """ExtBot whose late callback answers are logged, not raised.

    Telegram refuses an answer to a button press after about 15 s; the answer only stops the
    client's spinner, so the handler must go on and show the next question anyway.
    """

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        """Answers a button press; returns False instead of raising when it is too late."""
        try:
            return await super().answer_callback_query(*args, **kwargs)
        except BadRequest as exc:
            if any(s in exc.message.lower() for s in _TOO_LATE):
                log.info("callback answered too late: %s", exc.message)
                return False
            raise


def is_loopback(url: str) -> bool:
    """Tells whether url names this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_bot(
    *, token: str, api_root: str, rate_limiter: BaseRateLimiter[Any], pool_size: int
) -> DTeamBot:
    """Builds the bot pointed at api_root, with its HTTP connection pools.

    A proxy from the environment serves the way out to Telegram; a Bot API on this machine
    (the stand-in, a local Bot API server) is reached directly, as no proxy could reach it.
    """
    proxied = not is_loopback(api_root)
    return DTeamBot(
        token,
        base_url=f"{api_root}/bot",
        base_file_url=f"{api_root}/file/bot",
        request=AiohttpRequest(connection_pool_size=pool_size, trust_env=proxied),
        # One spare connection, so the final getUpdates at shutdown need not wait for the
        # cancelled long poll to release its connection.
        get_updates_request=TolerantUpdatesRequest(
            connection_pool_size=2, read_timeout=60, trust_env=proxied
        ),
        rate_limiter=rate_limiter,
    )

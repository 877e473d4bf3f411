"""The bot object: PTB's ExtBot, tolerant of callback answers that come too late."""

from __future__ import annotations

import datetime as dtm
import ipaddress
import logging
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import BadRequest
from telegram.ext import BaseRateLimiter, ExtBot

from bot.http import AiohttpRequest
from bot.update_guard import parse_batch

log = logging.getLogger(__name__)

_TOO_LATE = ("query is too old", "query id is invalid")


class DTeamBot(ExtBot[Any]):
    """ExtBot whose late callback answers are logged, not raised, and whose polling survives
    updates that Telegram could never send.

    Telegram refuses an answer to a button press after about 15 s; the answer only stops the
    client's spinner, so the handler must go on and show the next question anyway.
    """

    _flood_gate: Callable[[dict[str, Any]], bool] | None = None
    # (the offset PTB will ask for next, the offset to ask Telegram for instead): past a
    # batch's trailing refused updates, which PTB never sees.
    _skip: tuple[int, int] | None = None

    def gate_floods(self, refuses: Callable[[dict[str, Any]], bool]) -> None:
        """Lets refuses (the update processor's) drop a flood's updates before they are parsed."""
        self._flood_gate = refuses

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,  # noqa: ASYNC109 - PTB's signature
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        """getUpdates as PTB's, but each update is parsed once, a malformed one is skipped and a
        flood's refused updates are confirmed without reaching PTB.

        PTB parses a batch as a whole and, if one update in it is malformed, retries the same
        batch forever. Here the batch is parsed update by update (update_guard.parse_batch);
        the read timeout is PTB's: the request's own plus the long-polling time.
        """
        asked = offset  # what PTB will ask for again if this batch has nothing for it
        if self._skip is not None and offset == self._skip[0]:
            offset = self._skip[1]
        own = read_timeout
        if isinstance(own, DefaultValue):
            own = self._request[0].read_timeout
        poll = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else (timeout or 0)
        data: JSONDict = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        result = await self._post(
            "getUpdates",
            data,
            read_timeout=(own or 0) + poll,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        self._skip = None
        updates, last_refused = parse_batch(result, self, self._flood_gate)
        if last_refused is not None:
            # PTB asks next for the offset past the last update it got (or again for this
            # one); Telegram is asked to confirm the refused ones after them too. An empty
            # Update standing in for them went through the whole dispatch, 100 times a second
            # under a flood polled update by update.
            self._skip = (updates[-1].update_id + 1 if updates else asked or 0, last_refused + 1)
        for update in updates:
            self.insert_callback_data(update)
        return updates

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
        get_updates_request=AiohttpRequest(
            connection_pool_size=2, read_timeout=60, trust_env=proxied
        ),
        rate_limiter=rate_limiter,
    )

"""Keeps updates Telegram would never send away from the handlers, and long polling alive."""

from __future__ import annotations

import datetime as dtm
import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Bot, Message, Update, User

from bot.http import AiohttpRequest

log = logging.getLogger(__name__)
CHAT_TYPES = {"private", "group", "supergroup", "channel", "sender"}


def _user_problem(user: User | None, *, required: bool) -> str | None:
    if user is None:
        return "no sender" if required else None
    if type(user.id) is not int or not isinstance(user.first_name, str):
        return "malformed sender"
    return None


def _message_problem(msg: Message, *, channel: bool) -> str | None:
    chat = msg.chat
    if chat is None or type(chat.id) is not int or chat.type not in CHAT_TYPES:
        return "malformed chat"
    if type(msg.message_id) is not int or not isinstance(msg.date, dtm.datetime):
        return "malformed message id or date"
    if not isinstance(msg.text, str | None) or not isinstance(msg.caption, str | None):
        return "malformed text"
    return _user_problem(msg.from_user, required=not channel and chat.type != "channel")


def implausible(update: Update) -> str | None:
    """Says what is wrong with an update that breaks Telegram's own schema, else None."""
    for msg, channel in (
        (update.message, False),
        (update.edited_message, False),
        (update.channel_post, True),
        (update.edited_channel_post, True),
    ):
        if msg is not None and (problem := _message_problem(msg, channel=channel)):
            return problem
    query = update.callback_query
    if query is not None:
        if not isinstance(query.id, str) or not isinstance(query.data, str | None):
            return "malformed callback query"
        if query.message is not None and (
            problem := _message_problem(query.message, channel=False)  # type: ignore[arg-type]
        ):
            return problem
        return _user_problem(query.from_user, required=True)
    member = update.my_chat_member or update.chat_member
    if member is not None and (member.chat is None or member.new_chat_member is None):
        return "malformed chat member update"
    return None


def parsed(raw: dict[str, Any], bot: Bot | None) -> tuple[Update, str | None]:
    """Parses an update with an integer update_id, once; says what is wrong with it, if anything.

    A malformed update comes back empty (only its id), so that it is skipped but its id is
    confirmed: the polling offset moves past it, a webhook answers it 200.
    """
    try:
        update = Update.de_json(dict(raw), bot)
        problem = implausible(update)
    except Exception as exc:  # any malformed field: PTB raises all kinds of errors
        problem = str(exc)
    if problem is None:
        return update, None
    log.warning("update %s is malformed (%s); skipped", raw["update_id"], problem[:200])
    return Update.de_json({"update_id": raw["update_id"]}, bot), problem


def readable(raw: object) -> dict[str, Any] | None:
    """Returns the update if it is one Telegram could send, an empty one with its id if not."""
    if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
        log.warning("dropped an update without an integer update_id")
        return None
    _, problem = parsed(raw, None)
    return raw if problem is None else {"update_id": raw["update_id"]}


class TolerantUpdatesRequest(AiohttpRequest):
    """PTB parses a getUpdates batch as a whole and retries it forever if one update is bad."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Sends the request; in a getUpdates answer, replaces the updates that are malformed."""
        status, body = await super().do_request(*args, **kwargs)
        if status != HTTPStatus.OK:
            return status, body
        try:
            data = json.loads(body)
        except ValueError:
            return status, body
        if isinstance(data, dict) and isinstance(data.get("result"), list):
            data["result"] = [u for u in map(readable, data["result"]) if u is not None]
            body = json.dumps(data).encode()
        return status, body

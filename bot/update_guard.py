"""Keeps updates Telegram would never send away from the handlers, and long polling alive."""

from __future__ import annotations

import datetime as dtm
import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, Chat, Message, Update, User

log = logging.getLogger(__name__)
CHAT_TYPES = {"private", "group", "supergroup", "channel", "sender"}
ID_BOUND = 2**63  # user and chat ids are 64-bit signed integers (Telegram's have 52 bits)


def _id_ok(value: object) -> bool:
    return type(value) is int and -ID_BOUND <= value < ID_BOUND


def _user_problem(user: User | None, *, required: bool) -> str | None:
    if user is None:
        return "no sender" if required else None
    if (
        not _id_ok(user.id)
        or not isinstance(user.first_name, str)
        or not isinstance(user.language_code, str | None)
    ):
        return "malformed sender"
    return None


def _chat_problem(chat: Chat | None) -> str | None:
    if chat is None or not _id_ok(chat.id) or chat.type not in CHAT_TYPES:
        return "malformed chat"
    return None


def _message_problem(msg: Message, *, channel: bool) -> str | None:
    if problem := _chat_problem(msg.chat):
        return problem
    if type(msg.message_id) is not int or not isinstance(msg.date, dtm.datetime):
        return "malformed message id or date"
    if not isinstance(msg.text, str | None) or not isinstance(msg.caption, str | None):
        return "malformed text"
    return _user_problem(msg.from_user, required=not channel and msg.chat.type != "channel")


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
        message = query.message
        # A press on a message older than 48 hours: Telegram sends only its chat, its id and
        # date 0 (PTB parses it as a Message without sender or text, is_accessible False).
        if message is not None:
            problem = (
                _message_problem(message, channel=False)  # type: ignore[arg-type]
                if message.is_accessible
                else _chat_problem(message.chat)
            )
            if problem:
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


def parse_batch(
    result: object, bot: Bot, refuses: Callable[[dict[str, Any]], bool] | None = None
) -> tuple[tuple[Update, ...], int | None]:
    """Parses a getUpdates result update by update, each once; returns it and a trailing skip.

    A malformed update comes back empty (only its id), so that the offset moves past it; an
    entry without an integer update_id, which cannot be confirmed anyway, is dropped. An
    update that `refuses` drops (a flood) is not parsed at all. The second value is the id of
    the last refused update if nothing was kept after it (the caller confirms past it itself),
    else None.
    """
    if not isinstance(result, list):
        log.warning("getUpdates answered %s instead of a list; ignored", type(result).__name__)
        return (), None
    updates: list[Update] = []
    last_refused: int | None = None
    for raw in result:
        if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
            log.warning("dropped an update without an integer update_id")
            continue
        if refuses is not None and refuses(raw):
            last_refused = raw["update_id"]
            continue
        last_refused = None
        updates.append(parsed(raw, bot)[0])
    return tuple(updates), last_refused

"""Sending that survives Telegram: not-modified is success, failed edits fall back, 403 stops."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from handlers.core.context import DTeamContext
from storage.participants import mark_blocked

log = logging.getLogger(__name__)

_EDIT_FALLBACK = (
    "message to edit not found",
    "message can't be edited",
    "message_id_invalid",
    "there is no text in the message to edit",
)


def is_not_modified(exc: BadRequest) -> bool:
    """Tells whether Telegram refused an edit only because nothing changed."""
    return "message is not modified" in exc.message.lower()


async def on_blocked(ctx: DTeamContext, chat_id: int) -> None:
    """Records that a user blocked the bot so that nobody messages them again."""
    log.info("user %s blocked the bot; no more messages to them", chat_id)
    if chat_id > 0:
        async with ctx.services.db.write() as session:
            await mark_blocked(session, telegram_id=chat_id)


async def send(
    ctx: DTeamContext,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    **kwargs: Any,
) -> Message | None:
    """Sends an HTML message; returns None if the user blocked the bot."""
    try:
        return await ctx.bot.send_message(
            chat_id, text, reply_markup=markup, parse_mode=ParseMode.HTML, **kwargs
        )
    except Forbidden:
        await on_blocked(ctx, chat_id)
        return None


async def send_photo(
    ctx: DTeamContext, chat_id: int, png: bytes, caption: str, **kwargs: Any
) -> Message | None:
    """Sends a PNG with an HTML caption; returns None if the user blocked the bot."""
    try:
        return await ctx.bot.send_photo(
            chat_id, png, caption=caption, parse_mode=ParseMode.HTML, **kwargs
        )
    except Forbidden:
        await on_blocked(ctx, chat_id)
        return None


async def edit_or_send(
    ctx: DTeamContext,
    chat_id: int,
    message_id: int | None,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> int | None:
    """Edits the message (or sends a new one if that fails); returns the shown message's id."""
    if message_id is not None:
        try:
            await ctx.bot.edit_message_text(
                text, chat_id, message_id, reply_markup=markup, parse_mode=ParseMode.HTML
            )
        except BadRequest as exc:
            if is_not_modified(exc):
                return message_id
            if not any(s in exc.message.lower() for s in _EDIT_FALLBACK):
                raise
            log.info("edit of %s/%s failed (%s); sending anew", chat_id, message_id, exc.message)
        except Forbidden:
            await on_blocked(ctx, chat_id)
            return None
        else:
            return message_id
    sent = await send(ctx, chat_id, text, markup)
    return sent.message_id if sent else None


async def drop_keyboard(ctx: DTeamContext, chat_id: int, message_id: int) -> None:
    """Removes the buttons of an outdated message; failure is harmless."""
    try:
        await ctx.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except (BadRequest, Forbidden) as exc:
        log.debug("could not drop keyboard of %s/%s: %s", chat_id, message_id, exc)

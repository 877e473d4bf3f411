"""Bot API methods that send, edit, delete and pin messages, and answer callback queries."""

from __future__ import annotations

import time
from typing import Any

from sandbox.checks import (
    caption_text,
    check_can_send,
    count_message,
    inline_markup,
    message_text,
    new_message,
    reply_keyboard,
    reply_target,
    resolve_chat,
)
from sandbox.context import Ctx, Handler
from sandbox.errors import NOT_MODIFIED, QUERY_TOO_OLD, bad_request
from sandbox.models import JSON, Chat, StoredMessage
from sandbox.params import Params


async def send_message(ctx: Ctx, p: Params) -> JSON:
    """sendMessage: text 1–4096 characters, optional inline keyboard."""
    chat = resolve_chat(ctx, p)
    check_can_send(ctx, chat)
    text, entities = message_text(p)
    markup = inline_markup(ctx, p)
    keyboard = reply_keyboard(ctx, p.json("reply_markup"))
    reply = reply_target(ctx, p, chat)
    count_message(ctx, chat)
    message = new_message(
        ctx,
        chat,
        text=text,
        entities=entities,
        reply_markup=markup,
        reply_keyboard=keyboard,
        reply_to=reply,
    )
    return message.to_api()


def _editable(ctx: Ctx, p: Params) -> tuple[Chat, StoredMessage]:
    if p.has("inline_message_id") and not p.has("chat_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat = resolve_chat(ctx, p)
    message_id = p.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = ctx.bot.find_message(chat.id, message_id)
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender.id != ctx.bot.user.id:
        raise bad_request("message can't be edited")
    return chat, message


def _apply_edit(ctx: Ctx, chat: Chat, message: StoredMessage, **changes: Any) -> JSON:
    if all(getattr(message, key) == value for key, value in changes.items()):
        raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
    count_message(ctx, chat)
    for key, value in changes.items():
        setattr(message, key, value)
    message.edit_count += 1
    message.edit_date = ctx.world.now()
    ctx.touch(message)
    return message.to_api()


async def edit_message_text(ctx: Ctx, p: Params) -> JSON:
    """editMessageText: not found, not modified, and the keyboard dropped unless re-sent."""
    chat, message = _editable(ctx, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = message_text(p)
    markup = inline_markup(ctx, p)
    return _apply_edit(ctx, chat, message, text=text, entities=entities, reply_markup=markup)


async def edit_message_caption(ctx: Ctx, p: Params) -> JSON:
    """editMessageCaption: only messages with media have a caption."""
    chat, message = _editable(ctx, p)
    if message.photo is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    caption, entities = caption_text(p)
    markup = inline_markup(ctx, p)
    return _apply_edit(
        ctx, chat, message, caption=caption, caption_entities=entities, reply_markup=markup
    )


async def edit_message_reply_markup(ctx: Ctx, p: Params) -> JSON:
    """editMessageReplyMarkup: replace or (without markup) remove the inline keyboard."""
    chat, message = _editable(ctx, p)
    return _apply_edit(ctx, chat, message, reply_markup=inline_markup(ctx, p))


async def delete_message(ctx: Ctx, p: Params) -> bool:
    """deleteMessage: the bot's own messages, others' only with the right to delete."""
    chat = resolve_chat(ctx, p)
    message = ctx.bot.find_message(chat.id, p.require_int("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    if message.sender.id != ctx.bot.user.id and chat.type != "private":
        member = chat.members.get(ctx.bot.user.id)
        if member is None or not member.can("can_delete_messages"):
            raise bad_request("message can't be deleted")
    message.deleted = True
    ctx.touch(message)
    return True


def _check_pin_rights(ctx: Ctx, chat: Chat) -> None:
    if chat.type == "private":
        return
    member = chat.members.get(ctx.bot.user.id)
    right = "can_edit_messages" if chat.type == "channel" else "can_pin_messages"
    if member is None or not member.can(right):
        raise bad_request("not enough rights to manage pinned messages in the chat")


async def pin_chat_message(ctx: Ctx, p: Params) -> bool:
    """pinChatMessage: needs the pin right outside private chats."""
    chat = resolve_chat(ctx, p)
    _check_pin_rights(ctx, chat)
    message = ctx.bot.find_message(chat.id, p.require_int("message_id"))
    if message is None:
        raise bad_request("message to pin not found")
    message.pinned = True
    ctx.touch(message)
    return True


async def unpin_chat_message(ctx: Ctx, p: Params) -> bool:
    """unpinChatMessage: the given message, or the most recently pinned one."""
    chat = resolve_chat(ctx, p)
    _check_pin_rights(ctx, chat)
    pinned = [m for m in ctx.bot.chat_messages(chat.id).values() if m.pinned and not m.deleted]
    message_id = p.integer("message_id")
    if message_id is not None:
        pinned = [m for m in pinned if m.message_id == message_id]
    if not pinned:
        raise bad_request("message to unpin not found")
    message = max(pinned, key=lambda m: m.seq)
    message.pinned = False
    ctx.touch(message)
    return True


async def unpin_all_chat_messages(ctx: Ctx, p: Params) -> bool:
    """unpinAllChatMessages: clear every pin in the chat."""
    chat = resolve_chat(ctx, p)
    _check_pin_rights(ctx, chat)
    for message in ctx.bot.chat_messages(chat.id).values():
        if message.pinned:
            message.pinned = False
            ctx.touch(message)
    return True


async def answer_callback_query(ctx: Ctx, p: Params) -> bool:
    """answerCallbackQuery: once per query, within the answer window, text ≤ 200."""
    query_id = p.string("callback_query_id") or ""
    query = ctx.bot.callback_queries.get(query_id)
    window = ctx.services.settings.callback_answer_window
    if query is None or query.answer is not None or time.monotonic() - query.created > window:
        raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
    text = p.string("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": text,
        "show_alert": p.flag("show_alert"),
        "url": p.string("url"),
        "cache_time": p.integer("cache_time", 0),
    }
    ctx.world.notifier.bump()
    return True


METHODS: dict[str, Handler] = {
    "sendMessage": send_message,
    "editMessageText": edit_message_text,
    "editMessageCaption": edit_message_caption,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "pinChatMessage": pin_chat_message,
    "unpinChatMessage": unpin_chat_message,
    "unpinAllChatMessages": unpin_all_chat_messages,
    "answerCallbackQuery": answer_callback_query,
}

"""Shared checks for sending: who may be messaged, keyboards, text and caption rules."""

from __future__ import annotations

import re
from typing import Any

from sandbox import webapp
from sandbox.context import Ctx
from sandbox.errors import BLOCKED, ApiError, bad_request, forbidden
from sandbox.formatting import format_text
from sandbox.models import JSON, Chat, StoredMessage
from sandbox.params import Params

CHAT_KIND = {"group": "group chat", "supergroup": "supergroup chat", "channel": "channel chat"}
BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_URL = re.compile(r"^(https?|tg)://[^\s]+$", re.IGNORECASE)


def resolve_chat(ctx: Ctx, p: Params, name: str = "chat_id") -> Chat:
    """Resolve the chat parameter; 400 when missing or unknown, 400 migrated for old groups."""
    raw = p.get(name)
    if raw in (None, ""):
        raise bad_request(f"{name} is empty")
    is_name = isinstance(raw, str) and raw.startswith("@")
    chat_id: int | str = str(raw) if is_name else p.require_int(name)
    chat = ctx.world.chat(chat_id)
    ctx.chat_id = chat.id
    if chat.migrated_to is not None:
        raise ApiError(
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": chat.migrated_to},
        )
    if chat.type == "private" and chat.id in ctx.bot.blocked:
        raise ApiError(403, BLOCKED)
    return chat


def check_can_send(ctx: Ctx, chat: Chat) -> None:
    """Refuse like Telegram when the bot may not post into ``chat``."""
    if chat.type == "private":
        user = ctx.world.users.get(chat.id)
        if user is not None and user.is_bot:
            raise forbidden("bot can't send messages to bots")
        if chat.id not in ctx.bot.started:
            raise forbidden("bot can't initiate conversation with a user")
        return
    member = chat.members.get(ctx.bot.user.id)
    kind = CHAT_KIND.get(chat.type, "chat")
    if member is None or member.status == "left":
        raise forbidden(f"bot is not a member of the {kind}")
    if member.status == "kicked":
        raise forbidden(f"bot was kicked from the {kind}")
    if chat.type == "channel" and not member.can("can_post_messages"):
        raise bad_request("need administrator rights in the channel chat")
    if member.status == "restricted" and not member.rights.get("can_send_messages", False):
        raise bad_request("have no rights to send a message")


def count_message(ctx: Ctx, chat: Chat) -> None:
    """Count a send or edit against the flood limits (429 when exceeded)."""
    try:
        ctx.services.limiter.check(chat.id, chat.type != "private")
    except ApiError:
        ctx.services.stats["rate_limited"] += 1
        raise


def inline_markup(ctx: Ctx, p: Params) -> JSON | None:
    """Validate ``reply_markup``; return it when it is an inline keyboard, else None."""
    markup = p.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        # Reply keyboards and keyboard removal show on the client only, not on the message.
        reply_keyboard(ctx, markup)
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            "can't parse inline keyboard: field inline_keyboard must be an Array of Arrays"
        )
    if sum(len(r) for r in rows) > 100:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            _check_button(button)
            webapp.check_button(button, allow_http=_http_ok(ctx), what="inline keyboard button")
    rows = [r for r in rows if r]
    return {"inline_keyboard": rows} if rows else None


def reply_keyboard(ctx: Ctx, markup: Any) -> JSON | None:
    """Validate a reply keyboard's Mini App buttons; return the keyboard, else None."""
    if not isinstance(markup, dict) or not isinstance(markup.get("keyboard"), list):
        return None
    for row in markup["keyboard"]:
        for button in row if isinstance(row, list) else ():
            if isinstance(button, dict):
                webapp.check_button(button, allow_http=_http_ok(ctx), what="keyboard button")
    return markup


def _http_ok(ctx: Ctx) -> bool:
    return ctx.services.settings.allow_http_webapps


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text:
        raise bad_request(
            "BUTTON_TEXT_INVALID"
            if text == ""
            else "can't parse inline keyboard button: Text must be a String"
        )
    actions = [a for a in BUTTON_ACTIONS if a in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not _URL.match(url):
            raise bad_request("BUTTON_URL_INVALID")


def message_text(p: Params, name: str = "text") -> tuple[str, list[JSON]]:
    """Return formatted message text and entities; 400 when empty or over 4096 characters."""
    raw = p.string(name)
    if not raw:
        raise bad_request("message text is empty")
    text, entities = format_text(raw, p.string("parse_mode"), p.json("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > 4096:
        raise bad_request("message is too long")
    return text, entities


def caption_text(p: Params) -> tuple[str | None, list[JSON]]:
    """Return formatted caption and entities; 400 when over 1024 characters."""
    raw = p.string("caption")
    if not raw:
        return None, []
    text, entities = format_text(raw, p.string("parse_mode"), p.json("caption_entities"))
    if len(text) > 1024:
        raise bad_request("message caption is too long")
    return text, entities


def reply_target(ctx: Ctx, p: Params, chat: Chat) -> StoredMessage | None:
    """Return the message being replied to; 400 when it does not exist."""
    params = p.json("reply_parameters")
    message_id = p.integer("reply_to_message_id")
    allow = p.flag("allow_sending_without_reply")
    if isinstance(params, dict):
        message_id = params.get("message_id", message_id)
        allow = bool(params.get("allow_sending_without_reply", allow))
    if message_id is None:
        return None
    target = ctx.bot.find_message(chat.id, int(message_id))
    if target is None and not allow:
        raise bad_request("message to be replied not found")
    return target


def new_message(ctx: Ctx, chat: Chat, **fields: Any) -> StoredMessage:
    """Store a message the bot sent and wake waiters."""
    reply = fields.pop("reply_to", None)
    message = StoredMessage(
        chat=chat,
        message_id=ctx.bot.allocate_message_id(chat.id),
        sender=ctx.bot.user,
        date=ctx.world.now(),
        **fields,
    )
    if isinstance(reply, StoredMessage):
        message.extra["reply_to_message"] = reply.to_api()
    ctx.bot.chat_messages(chat.id)[message.message_id] = message
    ctx.touch(message)
    return message

"""Bot API methods about the bot, chats, members, commands and descriptions."""

from __future__ import annotations

import re

from sandbox.checks import resolve_chat
from sandbox.context import Ctx, Handler
from sandbox.errors import bad_request
from sandbox.models import JSON
from sandbox.params import Params

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


async def get_me(ctx: Ctx, _p: Params) -> JSON:
    """getMe: the bot's user with its capabilities."""
    out = ctx.bot.user.to_api()
    out.update(
        can_join_groups=True,
        can_read_all_group_messages=not ctx.bot.privacy_mode,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return out


async def get_chat(ctx: Ctx, p: Params) -> JSON:
    """getChat: ChatFullInfo of a known chat."""
    return resolve_chat(ctx, p).full_info()


async def get_chat_member(ctx: Ctx, p: Params) -> JSON:
    """getChatMember: from the member registry; known users outside the chat have left."""
    chat = resolve_chat(ctx, p)
    user_id = p.require_int("user_id")
    user = ctx.world.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        status = "member" if user_id in (chat.id, ctx.bot.user.id) else "left"
        return {"status": status, "user": user.to_api()}
    member = chat.members.get(user_id)
    if member is None:
        return {"status": "left", "user": user.to_api()}
    return member.to_api()


async def get_chat_administrators(ctx: Ctx, p: Params) -> list[JSON]:
    """getChatAdministrators: creator and administrators of a group or channel."""
    chat = resolve_chat(ctx, p)
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [m.to_api() for m in chat.members.values() if m.status in ("creator", "administrator")]


async def get_chat_member_count(ctx: Ctx, p: Params) -> int:
    """getChatMemberCount: members currently in the chat."""
    chat = resolve_chat(ctx, p)
    if chat.type == "private":
        return 2
    return sum(1 for m in chat.members.values() if m.is_member)


def scope_key(scope: object) -> str:
    """Return a stable key for a BotCommandScope object."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope")
    parts = [str(scope["type"])]
    parts += [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts)


async def set_my_commands(ctx: Ctx, p: Params) -> bool:
    """setMyCommands: stored per scope and language."""
    commands = p.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    cleaned = [{"command": c["command"], "description": c["description"]} for c in commands]
    if cleaned:
        ctx.bot.commands[key] = cleaned
    else:
        ctx.bot.commands.pop(key, None)
    return True


async def get_my_commands(ctx: Ctx, p: Params) -> list[JSON]:
    """getMyCommands: the list for exactly this scope and language."""
    key = (scope_key(p.json("scope")), p.string("language_code") or "")
    return list(ctx.bot.commands.get(key, []))


async def delete_my_commands(ctx: Ctx, p: Params) -> bool:
    """deleteMyCommands: drop the list for this scope and language."""
    ctx.bot.commands.pop((scope_key(p.json("scope")), p.string("language_code") or ""), None)
    return True


def _text_setting(field: str, limit: int) -> tuple[Handler, Handler]:
    async def setter(ctx: Ctx, p: Params) -> bool:
        value = p.string(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field} is too long")
        key = (field, p.string("language_code") or "")
        if value:
            ctx.bot.descriptions[key] = value
        else:
            ctx.bot.descriptions.pop(key, None)
        return True

    async def getter(ctx: Ctx, p: Params) -> JSON:
        lang = p.string("language_code") or ""
        value = ctx.bot.descriptions.get((field, lang), ctx.bot.descriptions.get((field, ""), ""))
        if field == "name" and not value:
            value = ctx.bot.user.first_name
        return {field: value}

    return setter, getter


async def set_chat_menu_button(ctx: Ctx, p: Params) -> bool:
    """setChatMenuButton: per chat, or the default without chat_id."""
    button = p.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or "type" not in button:
        raise bad_request("can't parse menu button")
    ctx.bot.menu_buttons[p.integer("chat_id")] = button
    return True


async def get_chat_menu_button(ctx: Ctx, p: Params) -> JSON:
    """getChatMenuButton: what was set for the chat, else the default."""
    buttons = ctx.bot.menu_buttons
    return buttons.get(p.integer("chat_id"), buttons.get(None, {"type": "commands"}))


async def stub_true(_ctx: Ctx, _p: Params) -> bool:
    """logOut, close: accepted, no effect here."""
    return True


_desc_set, _desc_get = _text_setting("description", 512)
_short_set, _short_get = _text_setting("short_description", 120)
_name_set, _name_get = _text_setting("name", 64)

METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getChat": get_chat,
    "getChatMember": get_chat_member,
    "getChatAdministrators": get_chat_administrators,
    "getChatMemberCount": get_chat_member_count,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setMyDescription": _desc_set,
    "getMyDescription": _desc_get,
    "setMyShortDescription": _short_set,
    "getMyShortDescription": _short_get,
    "setMyName": _name_set,
    "getMyName": _name_get,
    "setChatMenuButton": set_chat_menu_button,
    "getChatMenuButton": get_chat_menu_button,
    "logOut": stub_true,
    "close": stub_true,
}

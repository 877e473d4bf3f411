"""Start-up self-check: token, database, privacy mode, rights in groups and channel."""

from __future__ import annotations

import logging
from typing import Any

from telegram import ChatMember, ChatMemberAdministrator, ChatMemberRestricted, User
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.settings import Settings
from storage.database import Database
from storage.health import open_workshop_chats
from storage.migrate import current_revision, head_revision

log = logging.getLogger(__name__)

AnyApp = Application[Any, Any, Any, Any, Any, Any]
_HEADER = {
    "de": "⚠️ Selbsttest beim Start von @{bot}: bitte vor dem Workshop beheben.",
    "en": "⚠️ Start-up self-check of @{bot}: please fix before the workshop.",
}


async def self_check(app: AnyApp, settings: Settings, db: Database) -> list[str]:
    """Checks what would otherwise fail mid-workshop; logs and tells moderators each problem."""
    problems: list[str] = []
    try:
        me = await app.bot.get_me()
    except InvalidToken:
        problems.append("DTEAM_BOT_TOKEN: Telegram refuses this token (getMe); ask @BotFather")
        _log(problems)
        return problems  # nothing else can be asked, nor anybody told
    except TelegramError as exc:
        problems.append(f"Bot API at {settings.api_url} does not answer getMe: {exc}")
        _log(problems)
        return problems
    problems += await _database(db)
    if me.can_read_all_group_messages:
        log.info("group privacy mode is off: the bot receives every group message")
    else:
        log.info("group privacy mode is on: in groups the bot sees commands and replies only")
    chats: list[int] = []
    try:
        async with db.read() as session:
            chats = await open_workshop_chats(session)
    except Exception as exc:  # the self-check reports, it never stops the bot
        problems.append(f"cannot list the groups with open workshops: {exc}")
    for chat_id in chats:
        problems += await _group_rights(app, me, chat_id)
    if settings.channel_id is not None:
        problems += await _channel_rights(app, me, settings.channel_id)
    if problems:
        _log(problems)
        await _tell_moderators(app, settings, me, problems)
    else:
        log.info("self-check passed: token, database, rights in %d group(s)", len(chats))
    return problems


def _log(problems: list[str]) -> None:
    for problem in problems:
        log.warning("self-check: %s", problem)


async def _database(db: Database) -> list[str]:
    try:
        current = await current_revision(db)
    except Exception as exc:  # any driver error: unreachable
        return [f"database {db.dialect} is unreachable: {type(exc).__name__}: {exc}"]
    head = head_revision()
    if current != head:
        return [f"database schema is at revision {current}, this bot expects {head}"]
    return []


async def _member(app: AnyApp, me: User, chat_id: int, what: str) -> ChatMember | str:
    try:
        member: ChatMember = await app.bot.get_chat_member(chat_id, me.id)
    except TelegramError as exc:
        return f"{what} {chat_id}: cannot look up the bot's membership ({exc})"
    return member


async def _group_rights(app: AnyApp, me: User, chat_id: int) -> list[str]:
    what = "group with an open workshop"
    member = await _member(app, me, chat_id, what)
    if isinstance(member, str):
        return [member]
    if member.status in (ChatMember.LEFT, ChatMember.BANNED):
        return [f"{what} {chat_id}: the bot is not a member; add it to the group again"]
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return [f"{what} {chat_id}: the bot may not send messages there"]
    if member.status == ChatMember.OWNER:
        return []
    if not (isinstance(member, ChatMemberAdministrator) and member.can_pin_messages):
        return [
            f"{what} {chat_id}: the bot cannot pin the live results; make it an administrator "
            "with 'Pin messages'"
        ]
    return []


async def _channel_rights(app: AnyApp, me: User, chat_id: int) -> list[str]:
    what = "channel (DTEAM_CHANNEL_ID)"
    member = await _member(app, me, chat_id, what)
    if isinstance(member, str):
        return [member]
    if member.status == ChatMember.OWNER:
        return []
    if not (isinstance(member, ChatMemberAdministrator) and member.can_post_messages):
        return [
            f"{what} {chat_id}: the bot cannot post there; make it an administrator with "
            "'Post messages'"
        ]
    return []


async def _tell_moderators(app: AnyApp, settings: Settings, me: User, problems: list[str]) -> None:
    header = _HEADER.get(settings.language, _HEADER["en"]).format(bot=me.username)
    text = "\n".join([header, *(f"• {p}" for p in problems)])
    for moderator in sorted(settings.moderators):
        try:
            await app.bot.send_message(moderator, text)
        except TelegramError as exc:
            log.warning(
                "self-check: cannot tell moderator %s (%s); they must /start the bot once",
                moderator,
                exc,
            )

"""Shared steps of moderator commands: who may moderate, which workshop, where to answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import ChatMigrated
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers.core.context import DTeamContext, Services
from handlers.core.flow import language_of
from handlers.core.permissions import is_moderator
from handlers.core.sending import send
from storage.models import Workshop
from storage.participants import get_participant
from storage.workshops import current_workshop, move_chat

log = logging.getLogger(__name__)
T = TypeVar("T")

LOGGED_TEXT = 80  # characters of a refused command's text that go into the log
GROUP_COMMANDS = ("session", "close", "reopen", "reset", "summary", "teams", "status", "export")


@dataclass(frozen=True)
class GroupCommand:
    """A command a moderator gave in a group."""

    chat_id: int
    user_id: int
    lang: str  # the group's language: group posts are in the bot's default language
    private_lang: str  # the moderator's own language, for private answers


def chat_link(services: Services) -> str:
    """Returns the link that opens the private chat with the bot."""
    return f"https://t.me/{services.bot_username}"


def join_link(services: Services, code: str) -> str:
    """Returns the link that joins the workshop: into the Mini App if it is on, else the chat."""
    if services.webapp_url is not None:
        # A direct link to the bot's Main Mini App (set in BotFather): one tap to the questions.
        return f"{chat_link(services)}?startapp={code}"
    return chat_join_link(services, code)


def chat_join_link(services: Services, code: str) -> str:
    """Returns the deep link that joins the workshop in the chat with the bot."""
    return f"{chat_link(services)}?start={code}"


def title_of(services: Services, workshop: Workshop, lang: str) -> str:
    """Returns the workshop's title, or the default title."""
    return workshop.title or services.texts.get(lang, "moderation.session.default_title")


async def moderator_command(
    update: Update, ctx: DTeamContext, *, texts: str = "moderation"
) -> GroupCommand | None:
    """Narrows a group command to a moderator's; refuses everyone else, changing nothing.

    `texts` is the section whose `group_only` and `refused` answer the others.
    """
    chat, user, services = update.effective_chat, update.effective_user, ctx.services
    if chat is None or user is None or update.effective_message is None:
        return None
    lang = services.default_language
    if chat.type == ChatType.PRIVATE:
        await send(ctx, chat.id, services.texts.get(lang, f"{texts}.group_only"))
        return None
    if not await is_moderator(ctx, chat.id, user.id):
        # %r and a cut: a command's text is the sender's, and must not forge log lines.
        text = (update.effective_message.text or "")[:LOGGED_TEXT]
        log.info("refused %r to non-moderator %s in %s", text, user.id, chat.id)
        await send(ctx, chat.id, services.texts.get(lang, f"{texts}.refused"))
        return None
    async with services.db.read() as session:
        participant = await get_participant(session, telegram_id=user.id)
    private_lang = language_of(services, participant, user)
    return GroupCommand(chat.id, user.id, lang, private_lang)


async def group_workshop(
    ctx: DTeamContext, cmd: GroupCommand, *, texts: str = "moderation"
) -> Workshop | None:
    """Returns the group's current workshop, or says (in `texts`.no_session) there is none."""
    async with ctx.services.db.read() as session:
        workshop = await current_workshop(session, chat_id=cmd.chat_id)
    if workshop is None:
        await send(ctx, cmd.chat_id, ctx.services.texts.get(cmd.lang, f"{texts}.no_session"))
    return workshop


async def tell_moderator(ctx: DTeamContext, cmd: GroupCommand, text: str) -> bool:
    """Answers the moderator privately; if that fails, asks them in the group to /start first."""
    if await send(ctx, cmd.user_id, text) is not None:
        return True
    await ask_to_start(ctx, cmd)
    return False


async def ask_to_start(ctx: DTeamContext, cmd: GroupCommand) -> None:
    """Tells the moderator in the group to start the bot privately first."""
    t = ctx.services.texts
    button = InlineKeyboardButton(
        t.get(cmd.lang, "moderation.start_me_button"),
        url=chat_link(ctx.services),
    )
    await send(
        ctx,
        cmd.chat_id,
        t.get(cmd.lang, "moderation.start_me_first"),
        InlineKeyboardMarkup([[button]]),
    )


async def follow_migration(ctx: DTeamContext, old_chat_id: int, new_chat_id: int) -> None:
    """Moves a group's workshops to its new supergroup id."""
    async with ctx.services.db.write() as session:
        moved = await move_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
    log.info("group %s became supergroup %s: %d sessions moved", old_chat_id, new_chat_id, moved)


async def to_group(ctx: DTeamContext, chat_id: int, call: Callable[[int], Awaitable[T]]) -> T:
    """Runs call(chat_id); if the group became a supergroup, moves its data and retries there."""
    try:
        return await call(chat_id)
    except ChatMigrated as exc:
        await follow_migration(ctx, chat_id, exc.new_chat_id)
        return await call(exc.new_chat_id)


async def on_migrate(update: Update, ctx: DTeamContext) -> None:
    """Keeps a group's workshops when Telegram upgrades it to a supergroup."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        await follow_migration(ctx, message.chat.id, message.migrate_to_chat_id)
    elif message.migrate_from_chat_id:
        await follow_migration(ctx, message.migrate_from_chat_id, message.chat.id)


async def cmd_group_only(update: Update, ctx: DTeamContext) -> None:
    """Says that moderator commands work in the group, not in private chat."""
    if update.effective_chat is not None:
        text = ctx.services.texts.get(ctx.services.default_language, "moderation.group_only")
        await send(ctx, update.effective_chat.id, text)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns the migration handler and the private-chat answer to group commands."""
    return [
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
        CommandHandler(list(GROUP_COMMANDS), cmd_group_only, filters=filters.ChatType.PRIVATE),
    ]

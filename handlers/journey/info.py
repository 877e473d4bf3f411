"""/help, /about, /privacy, /language, /delete_me, and polite answers to everything else."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers.core import render
from handlers.core.callbacks import Action
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext
from handlers.core.flow import language_of
from handlers.core.moderation import chat_link
from handlers.core.permissions import is_moderator
from handlers.core.press import button
from handlers.core.sending import edit_or_send, send
from storage.participants import delete_participant, get_participant
from storage.types import pk

log = logging.getLogger(__name__)


async def _lang(update: Update, ctx: DTeamContext) -> str:
    user = update.effective_user
    if user is None:
        return ctx.services.default_language
    async with ctx.services.db.read() as session:
        participant = await get_participant(session, telegram_id=user.id)
    return language_of(ctx.services, participant, user)


async def _reply(update: Update, ctx: DTeamContext, key: str, **values: object) -> None:
    if update.effective_chat is None:
        return
    lang = await _lang(update, ctx)
    await send(ctx, update.effective_chat.id, ctx.services.texts.get(lang, key, **values))


async def cmd_help(update: Update, ctx: DTeamContext) -> None:
    """Explains every command; in a group, the moderator's commands to moderators only."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    t = ctx.services.texts
    if chat.type == ChatType.PRIVATE:
        lang = await _lang(update, ctx)
        text = t.get(lang, "info.help") + "\n\n" + t.get(lang, "info.help_moderators")
        await send(ctx, chat.id, text)
        return
    lang = ctx.services.default_language  # group posts speak the group's language
    if await is_moderator(ctx, chat.id, user.id):
        text = t.get(lang, "info.help_moderators") + "\n" + t.get(lang, "info.help_participants")
        await send(ctx, chat.id, text)
        return
    private_chat = InlineKeyboardButton(
        t.get(lang, "start.group_button"), url=chat_link(ctx.services)
    )
    markup = InlineKeyboardMarkup([[private_chat]])
    await send(ctx, chat.id, t.get(lang, "start.group_hint"), markup)


async def cmd_about(update: Update, ctx: DTeamContext) -> None:
    """Credits the ÖFIT/KGSt typology and says the questionnaire is the project's own."""
    await _reply(update, ctx, "info.about")


async def cmd_privacy(update: Update, ctx: DTeamContext) -> None:
    """Shows the privacy notice."""
    if update.effective_chat is None:
        return
    lang = await _lang(update, ctx)
    await send(ctx, update.effective_chat.id, render.privacy_notice(ctx.services, lang))


async def cmd_language(update: Update, ctx: DTeamContext) -> None:
    """Offers the two languages as buttons."""
    if update.effective_chat is None:
        return
    lang = await _lang(update, ctx)
    t = ctx.services.texts
    await send(
        ctx,
        update.effective_chat.id,
        t.get(lang, "language.choose"),
        render.keyboard(
            [("Deutsch", cb(Action.LANGUAGE, "de")), ("English", cb(Action.LANGUAGE, "en"))]
        ),
    )


async def cmd_delete_me(update: Update, ctx: DTeamContext) -> None:
    """Asks to confirm the deletion of all of the person's data."""
    if update.effective_chat is None:
        return
    lang = await _lang(update, ctx)
    t = ctx.services.texts
    await send(
        ctx,
        update.effective_chat.id,
        t.get(lang, "delete.confirm"),
        render.keyboard(
            [(t.get(lang, "delete.yes"), cb(Action.DELETE, "yes"))],
            [(t.get(lang, "delete.no"), cb(Action.DELETE, "no"))],
        ),
    )


async def on_delete(update: Update, ctx: DTeamContext) -> None:
    """Deletes the person's data after confirmation, and says so."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    lang = await _lang(update, ctx)
    t = ctx.services.texts
    if query.data != cb(Action.DELETE, "yes"):
        await edit_or_send(ctx, message.chat.id, message.message_id, t.get(lang, "delete.kept"))
        return
    async with ctx.services.db.write() as session:
        participant = await get_participant(session, telegram_id=user.id)
        runs = 0
        if participant is not None:
            runs = await delete_participant(session, participant_id=pk(participant))
    log.info("deleted participant data on request (%d runs)", runs)
    await edit_or_send(ctx, message.chat.id, message.message_id, t.get(lang, "delete.done"))


async def on_unexpected(update: Update, ctx: DTeamContext) -> None:
    """Answers text, stickers and media in private chat with a hint to use the buttons."""
    await _reply(update, ctx, "info.use_buttons")


async def on_unknown_button(update: Update, ctx: DTeamContext) -> None:
    """Answers a button press no feature handles (an old or forged button) with a short note."""
    query = update.callback_query
    if query is None:
        return
    log.warning("unhandled callback data from %s: %r", query.from_user.id, query.data)
    await query.answer(ctx.services.texts.get(await _lang(update, ctx), "errors.bad_button"))


async def cmd_unknown(update: Update, ctx: DTeamContext) -> None:
    """Answers an unknown command in private chat."""
    await _reply(update, ctx, "info.unknown_command")


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("help", cmd_help),
        CommandHandler("about", cmd_about),
        CommandHandler("privacy", cmd_privacy),
        CommandHandler("language", cmd_language, filters=private),
        CommandHandler("delete_me", cmd_delete_me, filters=private),
        CallbackQueryHandler(on_delete, pattern=rf"^{Action.DELETE}:"),
    ]


# A participant's own buttons: they only ever appear in the private chat with the bot.
PARTICIPANT_ACTIONS = frozenset(
    {
        Action.CONSENT,
        Action.LANGUAGE,
        Action.ANSWER,
        Action.BACK,
        Action.RESUME,
        Action.RESTART,
        Action.JOIN,
        Action.SOLO,
        Action.DELETE,
        Action.REMINDERS,
        Action.SHARE_NAME,
        Action.CARD_MORE,
    }
)


class _OutsidePrivateChat(CallbackQueryHandler[DTeamContext, None]):
    """Matches a participant's button pressed on a message outside a private chat.

    The bot never puts these buttons into groups, so such a press is forged (a client
    can send any callback data for any message it sees). Caught before the features'
    handlers, it cannot edit a group message such as the pinned live message.
    """

    def check_update(self, update: object) -> bool | object | None:
        if not isinstance(update, Update) or update.callback_query is None:
            return False
        query = update.callback_query
        if query.message is None or query.message.chat.type == ChatType.PRIVATE:
            return False
        head = (query.data or "").split(":", 1)[0]
        return head in PARTICIPANT_ACTIONS


async def on_button_outside_private(update: Update, ctx: DTeamContext) -> None:
    """Refuses a participant's button pressed on a group message; changes nothing."""
    query = update.callback_query
    if query is None:
        return
    chat = query.message.chat.id if query.message is not None else None
    log.warning(
        "participant button %r from %s in chat %s refused", query.data, query.from_user.id, chat
    )
    await query.answer(ctx.services.texts.get(ctx.services.default_language, "errors.bad_button"))


def guards() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns handlers that must come first: PTB passes a button with empty data to *every*
    pattern handler, so this one, whose pattern matches nothing else, takes it before them;
    and a participant's button pressed outside the private chat is refused before any
    feature sees it."""
    return [
        CallbackQueryHandler(on_unknown_button, pattern="^$"),
        _OutsidePrivateChat(on_button_outside_private),
    ]


def fallbacks() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns the catch-all handlers, to be registered after every feature's handlers."""
    private = filters.ChatType.PRIVATE & ~filters.UpdateType.EDITED
    return [
        MessageHandler(private & filters.COMMAND, cmd_unknown),
        MessageHandler(private, on_unexpected),
        CallbackQueryHandler(on_unknown_button),
    ]

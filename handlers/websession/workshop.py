"""/session, /close, /reopen and /reset (with confirmation) in a group."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.core import render
from handlers.core.callbacks import Action, BadCallback, parse
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext
from handlers.core.flow import write_tx
from handlers.core.i18n import escape
from handlers.core.moderation import (
    GroupCommand,
    chat_join_link,
    group_workshop,
    join_link,
    moderator_command,
    title_of,
)
from handlers.core.permissions import is_moderator
from handlers.core.press import button
from handlers.core.qr import qr_png
from handlers.core.sending import edit_or_send, send, send_photo
from handlers.websession.live import live_snapshot, mark_group_message, pin_quietly
from storage.groups import reset_workshop
from storage.locks import lock_chat
from storage.models import Workshop
from storage.workshops import (
    CLOSED,
    OPEN,
    create_workshop,
    current_workshop,
    get_workshop,
    mark_live_dirty,
    set_live,
    set_status,
)

log = logging.getLogger(__name__)


async def _post_join(ctx: DTeamContext, cmd: GroupCommand, workshop: Workshop) -> None:
    """Posts the QR code with the deep-link button."""
    t, link = ctx.services.texts, join_link(ctx.services, workshop.code)
    title = escape(title_of(ctx.services, workshop, cmd.lang))
    rows = [[InlineKeyboardButton(t.get(cmd.lang, "moderation.session.join_button"), url=link)]]
    chat = chat_join_link(ctx.services, workshop.code)
    if chat != link:  # the link opens the Mini App: the chat stays one tap away
        label = t.get(cmd.lang, "moderation.session.chat_join_button")
        rows.append([InlineKeyboardButton(label, url=chat)])
    await send_photo(
        ctx,
        cmd.chat_id,
        qr_png(link),
        t.get(cmd.lang, "moderation.session.join_caption", title=title),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def _post_live(ctx: DTeamContext, cmd: GroupCommand, workshop_id: int) -> None:
    """Posts the live message of a new workshop, pins it, and remembers it."""
    services = ctx.services
    async with services.db.read() as session:
        workshop = await get_workshop(session, workshop_id=workshop_id)
        assert workshop is not None
        text = await live_snapshot(services, session, workshop)
    sent = await send(ctx, cmd.chat_id, text)
    if sent is None:
        return
    mark_group_message(services, cmd.chat_id)
    async with services.db.write() as session:
        await set_live(session, workshop_id=workshop_id, message_id=sent.message_id, text=text)
    await pin_quietly(ctx, cmd.chat_id, sent.message_id)


async def cmd_session(update: Update, ctx: DTeamContext) -> None:
    """Opens a workshop for the group and posts the join QR code and the live message."""
    cmd = await moderator_command(update, ctx)
    if cmd is None:
        return
    title = " ".join(ctx.args or []).strip()[:200]
    async with write_tx(ctx, update) as (session, is_new):
        if not is_new:
            return
        await lock_chat(session, chat_id=cmd.chat_id)
        workshop = await current_workshop(session, chat_id=cmd.chat_id)
        created = workshop is None or workshop.status != OPEN
        if created:
            workshop = await create_workshop(
                session, chat_id=cmd.chat_id, title=title, created_by=cmd.user_id
            )
    assert workshop is not None
    assert workshop.id is not None
    log.info("session %s in %s (new: %s)", workshop.id, cmd.chat_id, created)
    await _post_join(ctx, cmd, workshop)
    if created:
        await _post_live(ctx, cmd, workshop.id)
    else:
        name = escape(title_of(ctx.services, workshop, cmd.lang))
        text = ctx.services.texts.get(cmd.lang, "moderation.session.already_open", title=name)
        await send(ctx, cmd.chat_id, text)


async def _set_status(update: Update, ctx: DTeamContext, status: str) -> None:
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    async with write_tx(ctx, update) as (session, is_new):
        # Decided on the group's newest workshop as it is now, under the group's lock: a
        # /session or another /close or /reopen at the same moment comes before or after.
        await lock_chat(session, chat_id=cmd.chat_id)
        workshop = await current_workshop(session, chat_id=cmd.chat_id) or workshop
        changed = workshop.status != status
        if is_new and changed:
            await set_status(session, workshop=workshop, status=status)
    key = {
        (CLOSED, True): "closed",
        (CLOSED, False): "already_closed",
        (OPEN, True): "reopened",
        (OPEN, False): "already_open_short",
    }[(status, changed)]
    title = escape(title_of(ctx.services, workshop, cmd.lang))
    await send(
        ctx,
        cmd.chat_id,
        ctx.services.texts.get(cmd.lang, f"moderation.session.{key}", title=title),
    )


async def cmd_close(update: Update, ctx: DTeamContext) -> None:
    """Stops the group's workshop from accepting new answers."""
    await _set_status(update, ctx, CLOSED)


async def cmd_reopen(update: Update, ctx: DTeamContext) -> None:
    """Opens the group's closed workshop again."""
    await _set_status(update, ctx, OPEN)


async def cmd_reset(update: Update, ctx: DTeamContext) -> None:
    """Asks the moderator to confirm clearing the workshop's answers and results."""
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    t = ctx.services.texts
    title = escape(title_of(ctx.services, workshop, cmd.lang))
    await send(
        ctx,
        cmd.chat_id,
        t.get(cmd.lang, "moderation.session.reset_confirm", title=title),
        render.keyboard(
            [
                (
                    t.get(cmd.lang, "moderation.session.reset_yes"),
                    cb(Action.RESET, workshop.id, "yes"),
                )
            ],
            [
                (
                    t.get(cmd.lang, "moderation.session.reset_no"),
                    cb(Action.RESET, workshop.id, "no"),
                )
            ],
        ),
    )


async def on_reset(update: Update, ctx: DTeamContext) -> None:
    """Clears the workshop's runs after a moderator confirmed; anyone else changes nothing."""
    if (pressed := await button(update, answer=False)) is None:
        return
    (query, user, message), services = pressed, ctx.services
    lang, t = services.default_language, services.texts
    chat_id = message.chat.id
    if not await is_moderator(ctx, chat_id, user.id):
        await query.answer(t.get(lang, "moderation.session.reset_not_allowed"), show_alert=True)
        return
    await query.answer()
    try:
        data = parse(query.data)
        workshop_id, choice = data.int_arg(0), data.args[1]
    except BadCallback as exc:
        log.warning("reset button this bot did not make from %s: %s", user.id, exc)
        return
    runs, workshop = 0, None
    async with write_tx(ctx, update) as (session, is_new):
        workshop = await get_workshop(session, workshop_id=workshop_id)
        if workshop is None or workshop.chat_id != chat_id:
            return  # a button from another group's message cannot reset this one
        if is_new and choice == "yes":
            runs = await reset_workshop(session, workshop_id=workshop_id)
            await mark_live_dirty(session, workshop_id=workshop_id)
    title = escape(title_of(services, workshop, lang))
    text = (
        t.get(lang, "moderation.session.reset_done", title=title, runs=runs)
        if choice == "yes"
        else t.get(lang, "moderation.session.reset_kept")
    )
    log.info("workshop %s reset by %s: %d runs deleted", workshop_id, user.id, runs)
    await edit_or_send(ctx, chat_id, message.message_id, text)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    groups = filters.ChatType.GROUPS
    return [
        CommandHandler("session", cmd_session, filters=groups),
        CommandHandler("close", cmd_close, filters=groups),
        CommandHandler("reopen", cmd_reopen, filters=groups),
        CommandHandler("reset", cmd_reset, filters=groups),
        CallbackQueryHandler(on_reset, pattern=rf"^{Action.RESET}:"),
    ]

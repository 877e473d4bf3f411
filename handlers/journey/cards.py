"""The profile card's "more" button: shows the rest of the card in its place."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.core import render
from handlers.core.callbacks import Action, BadCallback, parse, pattern
from handlers.core.context import DTeamContext
from handlers.core.flow import language_of
from handlers.core.press import button
from handlers.core.sending import edit_or_send
from storage.participants import get_participant
from typology.types import TypeId

log = logging.getLogger(__name__)


def _without_more(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """Returns the card's keyboard as it is now (share state included) minus the more button."""
    if markup is None:
        return None
    head = f"{Action.CARD_MORE.value}:"
    rows = [
        [b for b in row if not str(b.callback_data or "").startswith(head)]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup([row for row in rows if row])


async def on_card_more(update: Update, ctx: DTeamContext) -> None:
    """Expands the profile card in place to the full card; the other buttons stay."""
    if (pressed := await button(update, answer=False)) is None:
        return
    query, user, message = pressed
    services = ctx.services
    async with services.db.read() as session:
        participant = await get_participant(session, telegram_id=user.id)
    lang = language_of(services, participant, user)
    try:
        type_id = TypeId(parse(query.data).args[0])
    except (BadCallback, ValueError):
        log.warning("bad card button from %s: %r", user.id, query.data)
        await query.answer(services.texts.get(lang, "errors.bad_button"))
        return
    await query.answer()
    text = render.profile_card(services, services.profiles[lang][type_id], lang, full=True)
    markup = _without_more(getattr(message, "reply_markup", None))
    await edit_or_send(ctx, message.chat.id, message.message_id, text, markup)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers."""
    return [CallbackQueryHandler(on_card_more, pattern=pattern(Action.CARD_MORE))]

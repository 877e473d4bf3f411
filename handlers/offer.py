"""A bare /start offers the open sessions of the person's groups, or a solo run."""

from __future__ import annotations

import logging
from html import escape

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers import render
from handlers.callbacks import Action, BadCallback, parse
from handlers.callbacks import build as cb
from handlers.context import DTeamContext
from handlers.flow import language_of, open_run, participant_for, show_current, write_tx
from handlers.moderation import title_of
from handlers.press import button
from handlers.sending import send
from storage.groups import finished_workshop_ids
from storage.models import Participant, Workshop
from storage.workshops import OPEN, get_workshop, open_workshops

log = logging.getLogger(__name__)

MAX_CHECKED = 10  # open sessions whose membership is asked from Telegram per bare /start
MAX_OFFERED = 5
_MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


async def _is_member(ctx: DTeamContext, chat_id: int, user_id: int) -> bool:
    try:
        member = await ctx.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("cannot check membership of %s in %s: %s", user_id, chat_id, exc)
        return False
    if member.status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in _MEMBER


async def joinable(ctx: DTeamContext, participant: Participant, user_id: int) -> list[Workshop]:
    """Returns open sessions of groups the user is in and has not finished yet."""
    async with ctx.services.db.read() as session:
        candidates = await open_workshops(session, limit=MAX_CHECKED)
        done = await finished_workshop_ids(session, participant_id=participant.id)  # type: ignore[arg-type]
    found: list[Workshop] = []
    for workshop in candidates:
        if workshop.id in done or not await _is_member(ctx, workshop.chat_id, user_id):
            continue
        found.append(workshop)
        if len(found) == MAX_OFFERED:
            break
    return found


async def offer_sessions(
    ctx: DTeamContext, chat_id: int, user_id: int, participant: Participant, lang: str
) -> bool:
    """Offers the joinable open sessions and a solo run; False when there is none to offer."""
    workshops = await joinable(ctx, participant, user_id)
    if not workshops:
        return False
    services, t = ctx.services, ctx.services.texts
    consented = participant.consent_at is not None
    parts = (
        []
        if consented
        else [
            t.get(lang, "start.welcome", total=len(services.questionnaire.items)),
            t.get(lang, "start.privacy_short"),
        ]
    )
    parts.append(t.get(lang, "moderation.offer.intro"))
    action = Action.JOIN if consented else Action.CONSENT
    rows = [
        [
            (
                t.get(lang, "moderation.offer.join_button", title=title_of(services, w, lang)),
                cb(action, w.id),
            )
        ]
        for w in workshops
    ]
    solo = cb(Action.RESTART, 0) if consented else cb(Action.CONSENT, 0)
    rows.append([(t.get(lang, "moderation.offer.solo_button"), solo)])
    await send(ctx, chat_id, "\n\n".join(parts), render.keyboard(*rows))
    return True


async def on_join(update: Update, ctx: DTeamContext) -> None:
    """Starts the questionnaire in the chosen open session."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    try:
        workshop_id = parse(query.data).int_arg(0)
    except BadCallback:
        return
    run = None
    async with write_tx(ctx, update) as (session, is_new):
        participant = await participant_for(session, ctx.services, user)
        workshop = await get_workshop(session, workshop_id=workshop_id)
        is_open = workshop is not None and workshop.status == OPEN
        if is_new and is_open and participant.consent_at is not None:
            run = await open_run(
                session, ctx.services, participant=participant, workshop_id=workshop_id
            )
    lang = language_of(ctx.services, participant, user)
    chat_id = message.chat.id
    if workshop is not None and not is_open:
        title = escape(title_of(ctx.services, workshop, lang))
        await send(ctx, chat_id, ctx.services.texts.get(lang, "start.closed", title=title))
        return
    if run is not None:
        await show_current(ctx, chat_id=chat_id, run=run, lang=lang, message_id=message.message_id)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers."""
    return [CallbackQueryHandler(on_join, pattern=rf"^{Action.JOIN}:")]

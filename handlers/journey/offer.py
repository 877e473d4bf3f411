"""A bare /start offers the open workshops of the person's groups, or a solo run."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import MaybeInaccessibleMessage, Update, User
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.core import render
from handlers.core.callbacks import Action, parse, pattern
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext
from handlers.core.flow import (
    button_title,
    count_for,
    language_of,
    participant_for,
    show_current,
    write_tx,
)
from handlers.core.moderation import title_of
from handlers.core.permissions import (
    HINT_SECONDS,
    MEMBERSHIP_SECONDS,
    is_member_status,
)
from handlers.core.press import button
from handlers.core.sending import send
from storage.groups import finished_workshop_ids
from storage.models import Participant, Run, Workshop
from storage.participants import get_participant, set_consent
from storage.runs import active_run
from storage.types import pk
from storage.workshops import OPEN, get_workshop_by_code, open_workshops

log = logging.getLogger(__name__)

MAX_CHECKED = 10  # membership questions to Telegram per bare /start, at most
MAX_OFFERED = 5
MAX_CANDIDATES = 1000  # open workshops looked at (newest first); only known ones cost nothing


async def _is_member(ctx: DTeamContext, chat_id: int, user_id: int) -> bool | None:
    """Asks Telegram whether the user is in the group; None if it would not say."""
    try:
        member = await ctx.bot.get_chat_member(chat_id, user_id)
    except TelegramError as exc:
        log.info("cannot check membership of %s in %s: %s", user_id, chat_id, exc)
        return None
    return is_member_status(member)


async def joinable(ctx: DTeamContext, participant: Participant, user_id: int) -> list[Workshop]:
    """Returns open workshops of groups the user is in and has not finished yet.

    Every open workshop is a candidate, so workshops elsewhere cannot push the person's own
    out of view. Known members (Telegram's recent answer, also from a moderator check) cost
    nothing; then the groups the person opened a workshop in or Telegram reported them
    joining, then the rest newest first: at most MAX_CHECKED questions per /start. Answers
    are kept for a few minutes, so the next /start goes on where this one stopped instead
    of asking the same groups again.
    """
    services = ctx.services
    async with services.db.read() as session:
        candidates = await open_workshops(session, limit=MAX_CANDIDATES)
        done = await finished_workshop_ids(session, participant_id=pk(participant))
    answers, hints, now = services.membership_cache, services.member_hints, time.monotonic()
    known: list[Workshop] = []
    hinted: list[Workshop] = []
    unknown: list[Workshop] = []
    chats: set[int] = set()
    for workshop in candidates:
        if workshop.id in done or workshop.chat_id in chats:
            continue
        chats.add(workshop.chat_id)
        cached = answers.get(workshop.chat_id, user_id, now=now, max_age=MEMBERSHIP_SECONDS)
        if cached is None and workshop.created_by == user_id:
            hinted.insert(0, workshop)  # who opened the workshop was in its group then
        elif cached is None:
            hint = hints.get(workshop.chat_id, user_id, now=now, max_age=HINT_SECONDS)
            (hinted if hint else unknown).append(workshop)
        elif cached:
            known.append(workshop)
    asked = [*hinted, *unknown][:MAX_CHECKED] if len(known) < MAX_OFFERED else []
    replies = await asyncio.gather(*(_is_member(ctx, w.chat_id, user_id) for w in asked))
    for workshop, member in zip(asked, replies, strict=True):
        if member is not None:
            answers.put(workshop.chat_id, user_id, member, now=now)
        if member:
            known.append(workshop)
    return known[:MAX_OFFERED]


async def offer_workshops(
    ctx: DTeamContext, chat_id: int, user_id: int, participant: Participant, lang: str
) -> bool:
    """Offers the joinable open workshops and a solo run; False when there is none to offer."""
    workshops = await joinable(ctx, participant, user_id)
    if not workshops:
        return False
    services, t = ctx.services, ctx.services.texts
    parts = (
        []
        if participant.consent_at is not None
        else [
            t.get(lang, "start.welcome", total=len(services.questionnaire.items)),
            t.get(lang, "start.privacy_short"),
        ]
    )
    parts.append(t.get(lang, "moderation.offer.intro"))
    rows = [
        [
            (
                t.plain(
                    lang,
                    "moderation.offer.join_button",
                    title=button_title(title_of(services, w, lang)),
                ),
                cb(Action.JOIN, w.code),
            )
        ]
        for w in workshops
    ]
    rows.append([(t.get(lang, "moderation.offer.solo_button"), cb(Action.SOLO))])
    await send(ctx, chat_id, "\n\n".join(parts), render.keyboard(*rows))
    return True


async def on_join(update: Update, ctx: DTeamContext) -> None:
    """Makes the chosen open workshop the one the answers count for, and goes on there.

    The button names the workshop by its join code, the same secret as its link; pressing it
    after the privacy note (offer or choice prompt) is consent. A run in progress moves with
    its answers; else a new run starts.
    """
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    code = parse(query.data).args[0] if query.data else ""
    await _choose(ctx, update, user, message, code=code)


async def on_solo(update: Update, ctx: DTeamContext) -> None:
    """Answers on one's own: the answers count for no workshop."""
    if (pressed := await button(update)) is None:
        return
    _, user, message = pressed
    await _choose(ctx, update, user, message, code=None)


async def _choose(
    ctx: DTeamContext,
    update: Update,
    user: User,
    message: MaybeInaccessibleMessage,
    *,
    code: str | None,
) -> None:
    services, chat_id = ctx.services, message.chat.id
    run: Run | None = None
    closed: Workshop | None = None
    participant: Participant | None = None
    async with write_tx(ctx, update) as (session, is_new):
        workshop = await get_workshop_by_code(session, code=code) if code else None
        if code and (workshop is None or workshop.status != OPEN):
            # Nothing chosen, so no consent: a forged code must not leave a row behind.
            closed = workshop
            participant = await get_participant(session, telegram_id=user.id)
        elif is_new:
            participant = await participant_for(session, services, user)
            chosen = workshop.id if workshop is not None else None
            await set_consent(session, participant=participant)
            run = await count_for(session, services, participant=participant, workshop_id=chosen)
        else:  # delivered again: the first delivery made the row, if any
            participant = await get_participant(session, telegram_id=user.id)
            if participant is not None:
                run = await active_run(session, participant_id=pk(participant))
    lang = language_of(services, participant, user)
    if code and closed is None and run is None and not is_new:
        return
    if code and run is None:
        if closed is None:
            log.warning("join button with an unknown code from %s", user.id)
            await send(ctx, chat_id, services.texts.get(lang, "start.unknown_code"))
        else:
            title = title_of(services, closed, lang)
            await send(ctx, chat_id, services.texts.get(lang, "start.closed", title=title))
        return
    if run is not None:
        await show_current(ctx, chat_id=chat_id, run=run, lang=lang, message_id=message.message_id)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers."""
    return [
        CallbackQueryHandler(on_join, pattern=pattern(Action.JOIN)),
        CallbackQueryHandler(on_solo, pattern=pattern(Action.SOLO)),
    ]

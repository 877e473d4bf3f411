"""/start with or without a workshop code: welcome, consent, language, resume or restart.

Which workshop a person's answers count for is stored with them (`joined_workshop_id`), set
only by the workshop's link or an explicit choice, and read on every later step: buttons carry
no workshop ids, so a language switch, a bare /start, a restart of the bot or a forged button
cannot move anyone into or out of a workshop.
"""

from __future__ import annotations

import logging
import re

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Update,
    WebAppInfo,
)
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.core import render
from handlers.core.callbacks import Action, pattern
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext
from handlers.core.flow import (
    button_title,
    joined_open,
    language_of,
    open_run,
    participant_for,
    show_current,
    write_tx,
)
from handlers.core.moderation import title_of
from handlers.core.press import button
from handlers.core.sending import edit_or_send, send
from handlers.journey.offer import offer_workshops
from handlers.journey.questionnaire import deliver_result
from storage.models import Participant, Run, Workshop
from storage.participants import get_participant, set_consent, set_joined, set_language
from storage.runs import active_run, as_classification, get_result, latest_finished_run
from storage.taps import result_unseen
from storage.types import pk
from storage.workshops import OPEN, get_workshop_by_code
from typology.scoring import Result as Classification

log = logging.getLogger(__name__)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def welcome(
    ctx: DTeamContext, lang: str, workshop: Workshop | None
) -> tuple[str, InlineKeyboardMarkup]:
    """Returns the welcome with the privacy note, the consent and the language button."""
    t = ctx.services.texts
    parts = [t.get(lang, "start.welcome", total=len(ctx.services.questionnaire.items))]
    if workshop is not None:
        parts.append(t.get(lang, "start.joining", title=title_of(ctx.services, workshop, lang)))
    parts.append(t.get(lang, "start.privacy_short"))
    other = "en" if lang == "de" else "de"
    markup = render.keyboard(
        [(t.get(lang, "start.consent_button"), cb(Action.CONSENT))],
        [(t.get(other, "start.language_button"), cb(Action.LANGUAGE, other))],
    )
    if ctx.services.webapp_url is not None:  # the Mini App first; the chat stays the fallback
        app = InlineKeyboardButton(
            t.plain(lang, "start.webapp_button"), web_app=WebAppInfo(ctx.services.webapp_url)
        )
        markup = InlineKeyboardMarkup([[app], *markup.inline_keyboard])
    return "\n\n".join(parts), markup


def _position(ctx: DTeamContext, run: Run) -> tuple[int, int]:
    q = ctx.services.questionnaire_for(run.questionnaire_version)
    items = [it.id for it in q.items]
    return (items.index(run.current_item) + 1 if run.current_item in items else 1), len(items)


class _Start:
    """What /start found, read in its one transaction."""

    def __init__(self) -> None:
        self.notice: str | None = None
        self.linked: Workshop | None = None  # the open workshop named in the link
        self.joined: Workshop | None = None  # the open workshop the person's answers count for
        self.running: Run | None = None
        self.running_in: Workshop | None = None
        self.finished: Run | None = None
        self.unseen: Classification | None = None  # its result, if the bot died before the card


async def cmd_start(update: Update, ctx: DTeamContext) -> None:
    """Greets the user; joins the workshop named in the deep link; asks consent or resumes."""
    user, chat, services = update.effective_user, update.effective_chat, ctx.services
    if user is None or chat is None or update.message is None:
        return
    payload = ctx.args[0] if ctx.args else ""
    found = _Start()
    async with write_tx(ctx, update) as (session, _):
        participant = await participant_for(session, services, user)
        lang = language_of(services, participant, user)
        found.running = await active_run(session, participant_id=pk(participant))
        if found.running is not None and found.running.workshop_id is not None:
            found.running_in = await session.get(Workshop, found.running.workshop_id)
        if payload:
            linked = (
                await get_workshop_by_code(session, code=payload) if _CODE.match(payload) else None
            )
            if linked is None:
                found.notice = services.texts.get(lang, "start.unknown_code")
            elif linked.status != OPEN:
                title = title_of(services, linked, lang)
                found.notice = services.texts.get(lang, "start.closed", title=title)
            else:
                found.linked = linked
                # A run in progress elsewhere: the person chooses below; the link alone does
                # not move answers they gave for another workshop.
                if found.running is None or found.running.workshop_id == linked.id:
                    await set_joined(session, participant=participant, workshop_id=linked.id)
        found.joined = await joined_open(session, participant)
        found.finished = await latest_finished_run(session, participant_id=pk(participant))
        if found.finished is not None and result_unseen(found.finished):
            assert found.finished.id is not None
            row = await get_result(session, run_id=found.finished.id)
            if row is not None:
                version = found.finished.questionnaire_version
                found.unseen = as_classification(row, questionnaire_version=version)
    if found.notice:
        await send(ctx, chat.id, found.notice)
    await _answer_start(ctx, chat.id, user.id, participant, lang, found)


async def _answer_start(
    ctx: DTeamContext, chat_id: int, user_id: int, participant: Participant, lang: str, f: _Start
) -> None:
    """Shows the next step after /start: welcome, offer, choice, resume, or the first question."""
    running, linked = f.running, f.linked
    if running is not None and linked is not None and running.workshop_id != linked.id:
        await _ask_switch(ctx, chat_id, lang, running, f.running_in, linked)
        return
    if participant.consent_at is None:
        if f.joined is None and await offer_workshops(ctx, chat_id, user_id, participant, lang):
            return
        text, markup = welcome(ctx, lang, f.joined)
        await send(ctx, chat_id, text, markup)
        return
    if running is not None:
        await _offer_resume(ctx, chat_id, lang, running)
        return
    if f.joined is None and await offer_workshops(ctx, chat_id, user_id, participant, lang):
        return
    if f.finished is not None and (linked is None or f.finished.workshop_id == linked.id):
        if f.unseen is not None:  # stored, but the bot died before the card: show it now
            await deliver_result(ctx, chat_id, None, f.unseen, lang, f.finished)
            return
        t = ctx.services.texts
        await send(
            ctx,
            chat_id,
            t.get(lang, "start.done_before"),
            render.keyboard([(t.get(lang, "start.restart_button"), cb(Action.RESTART))]),
        )
        return
    await begin(ctx, chat_id, participant, lang, message_id=None)


async def _offer_resume(ctx: DTeamContext, chat_id: int, lang: str, running: Run) -> None:
    t = ctx.services.texts
    n, total = _position(ctx, running)
    await send(
        ctx,
        chat_id,
        t.get(lang, "start.resume", n=n, total=total),
        render.keyboard(
            [(t.get(lang, "start.resume_button"), cb(Action.RESUME, running.id))],
            [(t.get(lang, "start.restart_button"), cb(Action.RESTART))],
        ),
    )


async def _ask_switch(
    ctx: DTeamContext,
    chat_id: int,
    lang: str,
    running: Run,
    running_in: Workshop | None,
    linked: Workshop,
) -> None:
    """Asks which workshop a run in progress counts for, when a link names another one."""
    services, t = ctx.services, ctx.services.texts
    n, total = _position(ctx, running)
    title = title_of(services, linked, lang)
    if running_in is not None:
        current = title_of(services, running_in, lang)
        text = t.get(
            lang, "start.switch_from_session", current=current, title=title, n=n, total=total
        )
    else:
        text = t.get(lang, "start.switch_from_solo", title=title, n=n, total=total)
    markup = render.keyboard(
        [
            (
                t.plain(lang, "start.switch_button", title=button_title(title)),
                cb(Action.JOIN, linked.code),
            )
        ],
        [(t.get(lang, "start.stay_button"), cb(Action.RESUME, running.id))],
    )
    await send(ctx, chat_id, text, markup)


async def begin(
    ctx: DTeamContext,
    chat_id: int,
    participant: Participant,
    lang: str,
    *,
    message_id: int | None,
) -> None:
    """Starts a fresh run for the workshop the participant joined (if open) and shows it."""
    async with ctx.services.db.write() as session:
        joined = await joined_open(session, participant)
        run = await open_run(
            session,
            ctx.services,
            participant=participant,
            workshop_id=joined.id if joined else None,
            message_id=message_id,
        )
    await show_current(ctx, chat_id=chat_id, run=run, lang=lang, message_id=message_id)


async def on_consent(update: Update, ctx: DTeamContext) -> None:
    """Records consent and starts the questionnaire (in the joined workshop, if any)."""
    if (pressed := await button(update)) is None:
        return
    _, user, message = pressed
    # One transaction for consent and the new run (200 people may tap at once when a workshop
    # opens). The first question replaces the welcome message, so the run knows its message.
    run: Run | None = None
    closed: Workshop | None = None
    async with write_tx(ctx, update) as (session, _):
        participant = await participant_for(session, ctx.services, user)
        await set_consent(session, participant=participant)
        joined = await joined_open(session, participant)
        if joined is None and participant.joined_workshop_id is not None:
            closed = await session.get(Workshop, participant.joined_workshop_id)
        run = await active_run(session, participant_id=pk(participant))
        if run is None:  # a second press on an old welcome shows the run in progress
            run = await open_run(
                session,
                ctx.services,
                participant=participant,
                workshop_id=joined.id if joined else None,
                message_id=message.message_id,
            )
    lang = language_of(ctx.services, participant, user)
    if closed is not None:
        title = title_of(ctx.services, closed, lang)
        await send(ctx, message.chat.id, ctx.services.texts.get(lang, "start.closed", title=title))
    await show_current(
        ctx, chat_id=message.chat.id, run=run, lang=lang, message_id=message.message_id
    )


async def on_language(update: Update, ctx: DTeamContext) -> None:
    """Switches the participant's language and shows the welcome (or a confirmation) in it."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    lang = query.data.split(":", 1)[-1] if query.data else ""
    if lang not in ("de", "en"):
        return
    async with write_tx(ctx, update) as (session, _):
        # Only someone who sent /start has a row; a forged press must not leave one behind.
        participant = await get_participant(session, telegram_id=user.id)
        joined = None
        if participant is not None:
            await set_language(session, participant=participant, language=lang)
            joined = await joined_open(session, participant)
    if participant is None or participant.consent_at is None:
        await _rewelcome(ctx, message, lang, joined)
    else:
        await edit_or_send(
            ctx,
            message.chat.id,
            message.message_id,
            ctx.services.texts.get(lang, "language.set"),
        )


async def _rewelcome(
    ctx: DTeamContext, message: MaybeInaccessibleMessage, lang: str, joined: Workshop | None
) -> None:
    """Turns the pressed message back into the welcome (no consent yet)."""
    text, markup = welcome(ctx, lang, joined)
    await edit_or_send(ctx, message.chat.id, message.message_id, text, markup)


async def on_resume(update: Update, ctx: DTeamContext) -> None:
    """Shows the current question of the run the participant left."""
    if (pressed := await button(update)) is None:
        return
    _, user, message = pressed
    async with ctx.services.db.read() as session:
        participant = await get_participant(session, telegram_id=user.id)
        running = (
            await active_run(session, participant_id=pk(participant)) if participant else None
        )
    lang = language_of(ctx.services, participant, user)
    if running is None:
        await edit_or_send(
            ctx,
            message.chat.id,
            message.message_id,
            ctx.services.texts.get(lang, "start.nothing_to_resume"),
        )
        return
    await show_current(
        ctx,
        chat_id=message.chat.id,
        run=running,
        lang=lang,
        message_id=message.message_id,
    )


async def on_restart(update: Update, ctx: DTeamContext) -> None:
    """Starts the questionnaire again from the first question, for the joined workshop."""
    if (pressed := await button(update)) is None:
        return
    _, user, message = pressed
    run: Run | None = None
    async with write_tx(ctx, update) as (session, is_new):
        participant = await get_participant(session, telegram_id=user.id)
        if participant is None:  # never started: no row for a forged press
            joined = None
        else:
            joined = await joined_open(session, participant)
            run = await active_run(session, participant_id=pk(participant))
        if is_new and participant is not None and participant.consent_at is not None:
            run = await open_run(
                session,
                ctx.services,
                participant=participant,
                workshop_id=joined.id if joined else None,
            )
    lang = language_of(ctx.services, participant, user)
    if participant is None or participant.consent_at is None:
        await _rewelcome(ctx, message, lang, joined)
        return
    if run is not None:
        await show_current(
            ctx,
            chat_id=message.chat.id,
            run=run,
            lang=lang,
            message_id=message.message_id,
        )


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", cmd_start, filters=private),
        CallbackQueryHandler(on_consent, pattern=pattern(Action.CONSENT)),
        CallbackQueryHandler(on_language, pattern=pattern(Action.LANGUAGE)),
        CallbackQueryHandler(on_resume, pattern=pattern(Action.RESUME)),
        CallbackQueryHandler(on_restart, pattern=pattern(Action.RESTART)),
    ]

"""/start with or without a session code: welcome, consent, language, resume or restart."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import render
from handlers.callbacks import Action, BadCallback, parse
from handlers.callbacks import build as cb
from handlers.context import DTeamContext
from handlers.flow import language_of, open_run, participant_for, show_current, write_tx
from handlers.offer import offer_sessions
from handlers.press import button
from handlers.sending import edit_or_send, send
from storage.models import Participant, Run, Workshop
from storage.participants import get_participant, set_consent, set_language
from storage.runs import active_run, latest_finished_run
from storage.workshops import OPEN, get_workshop, get_workshop_by_code

log = logging.getLogger(__name__)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _welcome(ctx: DTeamContext, lang: str, workshop: Workshop | None) -> tuple[str, object]:
    t = ctx.services.texts
    parts = [t.get(lang, "start.welcome", total=len(ctx.services.questionnaire.items))]
    if workshop is not None:
        parts.append(t.get(lang, "start.joining", title=workshop.title or workshop.code))
    parts.append(t.get(lang, "start.privacy_short"))
    other = "en" if lang == "de" else "de"
    wid = workshop.id if workshop is not None else 0
    markup = render.keyboard(
        [(t.get(lang, "start.consent_button"), cb(Action.CONSENT, wid))],
        [(t.get(other, "start.language_button"), cb(Action.LANGUAGE, other))],
    )
    return "\n\n".join(parts), markup


async def cmd_start(update: Update, ctx: DTeamContext) -> None:
    """Greets the user; joins the session named in the deep link; asks consent or resumes."""
    user, chat, services = update.effective_user, update.effective_chat, ctx.services
    if user is None or chat is None or update.message is None:
        return
    payload = ctx.args[0] if ctx.args else ""
    workshop: Workshop | None = None
    notice: str | None = None
    async with write_tx(ctx, update) as (session, _):
        participant = await participant_for(session, services, user)
        lang = language_of(services, participant, user)
        if payload:
            found = (
                await get_workshop_by_code(session, code=payload) if _CODE.match(payload) else None
            )
            if found is None:
                notice = services.texts.get(lang, "start.unknown_code")
            elif found.status != OPEN:
                notice = services.texts.get(lang, "start.closed", title=found.title or found.code)
            else:
                workshop = found
        running = await active_run(session, participant_id=participant.id)  # type: ignore[arg-type]
        finished = await latest_finished_run(session, participant_id=participant.id)  # type: ignore[arg-type]
    if notice:
        await send(ctx, chat.id, notice)
    # A bare /start (no running run) offers the open sessions of the person's groups.
    if (
        not payload
        and running is None
        and await offer_sessions(ctx, chat.id, user.id, participant, lang)
    ):
        return
    if participant.consent_at is None:
        text, markup = _welcome(ctx, lang, workshop)
        await send(ctx, chat.id, text, markup)  # type: ignore[arg-type]
        return
    await _offer(ctx, chat.id, participant, lang, workshop, running, finished)


async def _offer(
    ctx: DTeamContext,
    chat_id: int,
    participant: Participant,
    lang: str,
    workshop: Workshop | None,
    running: Run | None,
    finished: Run | None,
) -> None:
    """For a consenting participant: resume a run, or start one right away."""
    t = ctx.services.texts
    wid = workshop.id if workshop is not None else 0
    if running is not None and (workshop is None or running.workshop_id == workshop.id):
        items = [it.id for it in ctx.services.questionnaire.items]
        position = items.index(running.current_item) + 1 if running.current_item in items else 1
        await send(
            ctx,
            chat_id,
            t.get(lang, "start.resume", n=position, total=len(items)),
            render.keyboard(
                [(t.get(lang, "start.resume_button"), cb(Action.RESUME, running.id))],
                [
                    (
                        t.get(lang, "start.restart_button"),
                        cb(Action.RESTART, running.workshop_id or 0),
                    )
                ],
            ),
        )
        return
    if workshop is None and finished is not None:
        await send(
            ctx,
            chat_id,
            t.get(lang, "start.done_before"),
            render.keyboard([(t.get(lang, "start.restart_button"), cb(Action.RESTART, 0))]),
        )
        return
    await _begin(ctx, chat_id, participant, lang, wid or None, message_id=None)


async def _begin(
    ctx: DTeamContext,
    chat_id: int,
    participant: Participant,
    lang: str,
    workshop_id: int | None,
    *,
    message_id: int | None,
) -> None:
    async with ctx.services.db.write() as session:
        run = await open_run(
            session, ctx.services, participant=participant, workshop_id=workshop_id
        )
    await show_current(ctx, chat_id=chat_id, run=run, lang=lang, message_id=message_id)


async def on_consent(update: Update, ctx: DTeamContext) -> None:
    """Records consent and starts the questionnaire (in the joined session, if any)."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    try:
        wid = parse(query.data).int_arg(0)
    except BadCallback:
        log.warning("forged consent callback from %s: %r", user.id, query.data)
        return
    # One transaction for consent and the new run (200 people may tap at once when a session
    # opens). The first question replaces the welcome message, so the run knows its message.
    closed: Workshop | None = None
    run: Run | None = None
    async with write_tx(ctx, update) as (session, _):
        participant = await participant_for(session, ctx.services, user)
        await set_consent(session, participant=participant)
        workshop = await get_workshop(session, workshop_id=wid) if wid else None
        if workshop is not None and workshop.status != OPEN:
            closed, workshop = workshop, None
        running = await active_run(session, participant_id=participant.id)  # type: ignore[arg-type]
        if running is None or (workshop is not None and running.workshop_id != workshop.id):
            run = await open_run(
                session,
                ctx.services,
                participant=participant,
                workshop_id=workshop.id if workshop else None,
                message_id=message.message_id,
            )
    lang = language_of(ctx.services, participant, user)
    if closed is not None:
        await send(
            ctx, message.chat.id, ctx.services.texts.get(lang, "start.closed", title=closed.title)
        )
    shown = run or running
    assert shown is not None
    await show_current(
        ctx, chat_id=message.chat.id, run=shown, lang=lang, message_id=message.message_id
    )


async def on_language(update: Update, ctx: DTeamContext) -> None:
    """Switches the participant's language and shows the welcome (or a confirmation) in it."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    lang = parse(query.data).args[0] if query.data else ""
    if lang not in ("de", "en"):
        return
    async with write_tx(ctx, update) as (session, _):
        participant = await participant_for(session, ctx.services, user)
        await set_language(session, participant=participant, language=lang)
    if participant.consent_at is None:
        text, markup = _welcome(ctx, lang, None)
        await edit_or_send(ctx, message.chat.id, message.message_id, text, markup)  # type: ignore[arg-type]
    else:
        await edit_or_send(
            ctx,
            message.chat.id,
            message.message_id,
            ctx.services.texts.get(lang, "language.set"),
        )


async def on_resume(update: Update, ctx: DTeamContext) -> None:
    """Shows the current question of the run the participant left."""
    if (pressed := await button(update)) is None:
        return
    _, user, message = pressed
    async with ctx.services.db.read() as session:
        participant = await get_participant(session, telegram_id=user.id)
        running = await active_run(session, participant_id=participant.id) if participant else None  # type: ignore[arg-type]
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
    """Starts the questionnaire again from the first question."""
    if (pressed := await button(update)) is None:
        return
    query, user, message = pressed
    try:
        wid = parse(query.data).int_arg(0)
    except BadCallback:
        return
    async with write_tx(ctx, update) as (session, is_new):
        participant = await participant_for(session, ctx.services, user)
        workshop = await get_workshop(session, workshop_id=wid) if wid else None
        running = await active_run(session, participant_id=participant.id)  # type: ignore[arg-type]
        if is_new and participant.consent_at is not None:
            running = await open_run(
                session,
                ctx.services,
                participant=participant,
                workshop_id=workshop.id if workshop and workshop.status == OPEN else None,
            )
    lang = language_of(ctx.services, participant, user)
    if participant.consent_at is None:
        text, markup = _welcome(ctx, lang, workshop)
        await edit_or_send(ctx, message.chat.id, message.message_id, text, markup)  # type: ignore[arg-type]
        return
    if running is not None:
        await show_current(
            ctx,
            chat_id=message.chat.id,
            run=running,
            lang=lang,
            message_id=message.message_id,
        )


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", cmd_start, filters=private),
        CallbackQueryHandler(on_consent, pattern=rf"^{Action.CONSENT}:"),
        CallbackQueryHandler(on_language, pattern=rf"^{Action.LANGUAGE}:"),
        CallbackQueryHandler(on_resume, pattern=rf"^{Action.RESUME}:"),
        CallbackQueryHandler(on_restart, pattern=rf"^{Action.RESTART}:"),
    ]

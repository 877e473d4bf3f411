"""/schedule, /unschedule (moderators, in the group) and /reminders with its one-tap opt-out."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.core.callbacks import Action, BadCallback, build, parse
from handlers.core.context import DTeamContext
from handlers.core.flow import consented, language_of, write_tx
from handlers.core.moderation import group_workshop, moderator_command
from handlers.core.sending import send
from handlers.timeline.plan import (
    SETTINGS_KEY,
    ScheduleError,
    format_duration,
    parse_request,
    plan,
)
from handlers.timeline.timed import clock, config_of, schedule_jobs, unschedule_jobs
from handlers.timeline.timed_actions import local
from storage.models import ScheduledMessage, Workshop
from storage.participants import set_reminders
from storage.schedule import clear_plan, replace_plan, set_timeline, workshop_rows
from storage.types import pk
from storage.workshops import OPEN, current_workshop

log = logging.getLogger(__name__)


async def _moderated_workshop(update: Update, ctx: DTeamContext) -> Workshop | None:
    """Narrows to a moderator's command in a group with a workshop; answers everyone else."""
    cmd = await moderator_command(update, ctx, texts="schedule")
    return None if cmd is None else await group_workshop(ctx, cmd, texts="schedule")


def render_timeline(ctx: DTeamContext, workshop: Workshop, rows: list[ScheduledMessage]) -> str:
    """Renders the workshop's start, end and timed messages with their state."""
    services = ctx.services
    lang, t = services.default_language, services.texts
    if workshop.starts_at is None or workshop.ends_at is None:
        return t.get(lang, "schedule.none")
    lines = [
        t.get(
            lang,
            "schedule.header",
            start=local(services, workshop.starts_at, lang),
            end=local(services, workshop.ends_at, lang),
            length=format_duration(workshop.ends_at - workshop.starts_at),
        ),
        "",
    ]
    for row in rows:
        state = t.get(lang, f"schedule.status.{row.status}")
        lines.append(
            f"• {local(services, row.due_at, lang)} – {t.get(lang, f'schedule.kind.{row.kind}')}"
            f" <i>({state})</i>"
        )
    lines += ["", t.get(lang, "schedule.footer")]
    return "\n".join(lines)


async def cmd_schedule(update: Update, ctx: DTeamContext) -> None:
    """Sets the timeline from `<date> <time> [duration]`; without arguments, shows it."""
    workshop = await _moderated_workshop(update, ctx)
    if workshop is None or workshop.id is None:
        return
    services = ctx.services
    lang, t = services.default_language, services.texts
    note: str | None = None
    if ctx.args:
        if workshop.status != OPEN:
            await send(ctx, workshop.chat_id, t.get(lang, "schedule.closed"))
            return
        try:
            request = parse_request(ctx.args, services.timezone, clock(services)())
        except ScheduleError as exc:
            await send(ctx, workshop.chat_id, _error_text(ctx, exc))
            return
        note = _cap_retention(ctx, request.overrides)
        stored = dict(workshop.settings.get(SETTINGS_KEY, {}) or {})
        for key, value in request.overrides.items():
            stored[key] = None if value is None else int(value.total_seconds())
        settings = {**workshop.settings, SETTINGS_KEY: stored}
        items = plan(request.starts_at, request.ends_at, config_of(services, settings))
        async with services.db.write() as session:
            fresh = await current_workshop(session, chat_id=workshop.chat_id)
            assert fresh is not None
            assert fresh.id == workshop.id
            await set_timeline(
                session,
                workshop=fresh,
                starts_at=request.starts_at,
                ends_at=request.ends_at,
                settings=settings,
            )
            rows = await replace_plan(
                session, workshop_id=workshop.id, items=[(p.kind.value, p.due_at) for p in items]
            )
        schedule_jobs(ctx.application.job_queue, rows)
        workshop = fresh
        log.info(
            "workshop %s scheduled %s – %s", workshop.id, workshop.starts_at, workshop.ends_at
        )
    async with services.db.read() as session:
        rows = await workshop_rows(session, workshop_id=pk(workshop))
    shown = render_timeline(ctx, workshop, rows)
    await send(ctx, workshop.chat_id, f"{note}\n\n{shown}" if note else shown)


def _cap_retention(ctx: DTeamContext, overrides: dict[str, timedelta | None]) -> str | None:
    """Caps retention=… at DTEAM_RETENTION_DAYS; returns the note saying so, if it was more."""
    services = ctx.services
    cap = timedelta(days=services.retention_days)
    asked = overrides.get("retention")
    if asked is None or asked <= cap:
        return None
    overrides["retention"] = cap
    return services.texts.get(
        services.default_language,
        "schedule.retention_capped",
        asked=format_duration(asked),
        days=services.retention_days,
    )


def _error_text(ctx: DTeamContext, exc: ScheduleError) -> str:
    services = ctx.services
    lang, t = services.default_language, services.texts
    return "\n\n".join([t.get(lang, exc.key, **exc.values), t.get(lang, "schedule.example")])


async def cmd_unschedule(update: Update, ctx: DTeamContext) -> None:
    """Clears the workshop's timeline and every timed message not sent yet."""
    workshop = await _moderated_workshop(update, ctx)
    if workshop is None or workshop.id is None:
        return
    services = ctx.services
    async with services.db.write() as session:
        fresh = await current_workshop(session, chat_id=workshop.chat_id)
        assert fresh is not None
        ids = [r.id for r in await workshop_rows(session, workshop_id=workshop.id) if r.id]
        removed = await clear_plan(session, workshop_id=workshop.id)
        await set_timeline(
            session, workshop=fresh, starts_at=None, ends_at=None, settings=fresh.settings
        )
    unschedule_jobs(ctx.application.job_queue, ids)
    lang = services.default_language
    await send(ctx, workshop.chat_id, services.texts.get(lang, "schedule.cleared", n=removed))


async def cmd_reminders(update: Update, ctx: DTeamContext) -> None:
    """Turns reminders on or off (`/reminders on|off`), or shows the setting with a button."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    t = ctx.services.texts
    if chat.type != ChatType.PRIVATE:
        lang = language_of(ctx.services, None, user)
        await send(ctx, chat.id, t.get(lang, "reminders.private_only"))
        return
    wanted = (ctx.args or [""])[0].lower()
    async with write_tx(ctx, update) as (session, is_new):
        participant = await consented(session, user)
        if participant is not None and is_new and wanted in ("on", "an", "off", "aus"):
            await set_reminders(session, participant=participant, on=wanted in ("on", "an"))
    lang = language_of(ctx.services, participant, user)
    if participant is None:
        await send(ctx, chat.id, t.get(lang, "reminders.no_consent"))
        return
    await send(ctx, chat.id, *_reminder_state(ctx, lang, on=participant.reminders))


def _reminder_state(ctx: DTeamContext, lang: str, *, on: bool) -> tuple[str, InlineKeyboardMarkup]:
    t = ctx.services.texts
    key, label, flip = (
        ("reminders.on", "reminders.off_button", "off")
        if on
        else ("reminders.off", "reminders.on_button", "on")
    )
    button = InlineKeyboardButton(t.get(lang, label), callback_data=build(Action.REMINDERS, flip))
    return t.get(lang, key), InlineKeyboardMarkup([[button]])


async def on_reminders(update: Update, ctx: DTeamContext) -> None:
    """Turns reminders off (or on) with one tap and swaps the button."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    try:
        wanted = parse(query.data).args[0]
    except BadCallback:
        await query.answer()
        return
    if wanted not in ("on", "off"):
        await query.answer()
        return
    async with write_tx(ctx, update) as (session, _):
        participant = await consented(session, user)
        if participant is not None:
            await set_reminders(session, participant=participant, on=wanted == "on")
    lang = language_of(ctx.services, participant, user)
    if participant is None:
        await query.answer(ctx.services.texts.get(lang, "reminders.no_consent"))
        return
    text, markup = _reminder_state(ctx, lang, on=wanted == "on")
    await query.answer(text[:200])
    if query.message is not None:
        try:
            await query.edit_message_reply_markup(reply_markup=markup)
        except (BadRequest, Forbidden) as exc:
            log.debug("could not swap the reminders button: %s", exc)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    return [
        CommandHandler("schedule", cmd_schedule),
        CommandHandler("unschedule", cmd_unschedule),
        CommandHandler("reminders", cmd_reminders),
        CallbackQueryHandler(on_reminders, pattern=rf"^{Action.REMINDERS}:"),
    ]

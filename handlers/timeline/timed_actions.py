"""What each scheduled message does: reminders, announcements, nudge, close, retention."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from handlers.core.callbacks import Action, build
from handlers.core.context import DTeamContext, Services
from handlers.core.i18n import escape
from handlers.core.moderation import join_link
from handlers.core.sending import send
from handlers.timeline import timed_summary
from handlers.timeline.broadcast import broadcast
from handlers.timeline.plan import Config, Kind
from storage.audience import Recipient, idle_recipients, joined_recipients, mark_nudged, progress
from storage.locks import lock_chat
from storage.models import ScheduledMessage, Workshop
from storage.participants import get_participant
from storage.retention import purge_workshop
from storage.schedule import SENT, SKIPPED, finish
from storage.types import pk
from storage.workshops import CLOSED, OPEN, get_workshop, set_status

log = logging.getLogger(__name__)

NUDGE_EVERY = timedelta(minutes=1)  # how often idle runs are looked for during the workshop
RECHECK_OPEN = timedelta(days=1)  # retention waits while a closed workshop was re-opened
CLOSE_RETRY = timedelta(minutes=1)  # a close the database refused is tried again after this
Now = Callable[[], datetime]


@dataclass(frozen=True)
class Step:
    """What became of a row: a final status with a detail, or a time to look again."""

    status: str = SENT
    detail: str = ""
    again_at: datetime | None = None


def local(services: Services, when: datetime, lang: str) -> str:
    """Formats a UTC time in the bot's time zone, the way the language writes it."""
    moment = when.astimezone(services.timezone)
    return moment.strftime("%d.%m.%Y, %H:%M Uhr" if lang == "de" else "%Y-%m-%d, %H:%M")


def title(workshop: Workshop) -> str:
    """Returns the workshop's title (or code), HTML-escaped."""
    return escape(workshop.title or workshop.code)


def _lang(services: Services, recipient: Recipient) -> str:
    return services.texts.language(recipient.language)


def _reminder_markup(services: Services, workshop: Workshop, lang: str) -> InlineKeyboardMarkup:
    t = services.texts
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.get(lang, "timed.open_button"), url=join_link(services, workshop.code)
                )
            ],
            [
                InlineKeyboardButton(
                    t.get(lang, "timed.optout_button"),
                    callback_data=build(Action.REMINDERS, "off"),
                )
            ],
        ]
    )


async def run(
    ctx: DTeamContext,
    *,
    kind: Kind,
    row: ScheduledMessage,
    workshop: Workshop,
    config: Config,
    me: str,
    now: Now,
) -> Step:
    """Runs one claimed row; returns how it went."""
    if kind in (Kind.REMIND_DAY, Kind.REMIND_SOON):
        return await _remind(ctx, kind, row, workshop, me, now)
    if kind is Kind.NUDGE:
        return await _nudge(ctx, row, workshop, config, me, now)
    if kind in (Kind.RETENTION_NOTICE, Kind.PURGE):
        return await _retention(ctx, kind, workshop, config, now)
    if workshop.status != OPEN:
        return Step(SKIPPED, f"session is {workshop.status}; nothing to post")
    if kind is Kind.CLOSE:
        return await _close(ctx, row, workshop, me, now)
    # Group posts are marked done before they are sent: a crash then loses one post rather than
    # letting another process post it a second time.
    async with ctx.services.db.write() as session:
        await finish(session, row_id=pk(row), me=me, status=SENT, detail="posting", now=now())
    if kind is Kind.ANNOUNCE:
        return await _announce(ctx, workshop)
    return await _last_call(ctx, workshop, config)


async def _remind(
    ctx: DTeamContext, kind: Kind, row: ScheduledMessage, workshop: Workshop, me: str, now: Now
) -> Step:
    services, t = ctx.services, ctx.services.texts
    starts_at = workshop.starts_at
    assert starts_at is not None
    assert workshop.id is not None
    async with services.db.read() as session:
        recipients = await joined_recipients(session, workshop_id=workshop.id)
    minutes = max(1, round((starts_at - now()).total_seconds() / 60))

    def render(r: Recipient) -> tuple[str, InlineKeyboardMarkup]:
        lang = _lang(services, r)
        text = t.get(
            lang,
            f"timed.{kind.value}",
            title=title(workshop),
            when=local(services, starts_at, lang),
            minutes=minutes,
        )
        return text, _reminder_markup(services, workshop, lang)

    outcome = await broadcast(
        ctx,
        row_id=pk(row),
        me=me,
        now=now,
        recipients=recipients,
        render=render,
    )
    return Step(SENT, outcome.detail())


async def _nudge(
    ctx: DTeamContext, row: ScheduledMessage, workshop: Workshop, config: Config, me: str, now: Now
) -> Step:
    services, t = ctx.services, ctx.services.texts
    ends_at = workshop.ends_at
    assert workshop.id is not None
    assert ends_at is not None
    assert config.nudge is not None
    if workshop.status != OPEN:
        return Step(SKIPPED, f"session is {workshop.status}; no nudges")
    async with services.db.read() as session:
        idle = await idle_recipients(
            session, workshop_id=workshop.id, idle_before=now() - config.nudge
        )

    def render(r: Recipient) -> tuple[str, InlineKeyboardMarkup]:
        lang = _lang(services, r)
        text = t.get(
            lang,
            "timed.nudge",
            title=title(workshop),
            end=local(services, ends_at, lang),
        )
        rows = [
            [
                InlineKeyboardButton(
                    t.get(lang, "timed.resume_button"),
                    callback_data=build(Action.RESUME, r.run_id),
                )
            ],
            [
                InlineKeyboardButton(
                    t.get(lang, "timed.optout_button"),
                    callback_data=build(Action.REMINDERS, "off"),
                )
            ],
        ]
        return text, InlineKeyboardMarkup(rows)

    async def on_reserve(session: AsyncSession, mine: Sequence[Recipient]) -> None:
        await mark_nudged(session, run_ids=[r.run_id for r in mine if r.run_id], now=now())

    outcome = await broadcast(
        ctx,
        row_id=pk(row),
        me=me,
        now=now,
        recipients=idle,
        render=render,
        on_reserve=on_reserve,
    )
    again = now() + NUDGE_EVERY
    if again < ends_at:
        return Step(SENT, outcome.detail(), again_at=again)
    return Step(SENT, "nudges done; last round: " + outcome.detail())


async def _announce(ctx: DTeamContext, workshop: Workshop) -> Step:
    services, lang = ctx.services, ctx.services.default_language
    t = services.texts
    assert workshop.ends_at is not None
    text = t.get(
        lang,
        "timed.announce",
        title=title(workshop),
        end=local(services, workshop.ends_at, lang),
    )
    button = InlineKeyboardButton(
        t.get(lang, "timed.open_button"), url=join_link(services, workshop.code)
    )
    sent = await send(ctx, workshop.chat_id, text, InlineKeyboardMarkup([[button]]))
    return Step(SENT, "announced in the group" if sent else "group unreachable")


async def _last_call(ctx: DTeamContext, workshop: Workshop, config: Config) -> Step:
    services, lang = ctx.services, ctx.services.default_language
    assert workshop.id is not None
    assert config.last is not None
    async with services.db.read() as session:
        joined, finished = await progress(session, workshop_id=workshop.id)
    text = services.texts.get(
        lang,
        "timed.last_call",
        title=title(workshop),
        minutes=int(config.last.total_seconds() // 60),
        finished=finished,
        joined=joined,
    )
    sent = await send(ctx, workshop.chat_id, text)
    return Step(SENT, f"{finished} of {joined} finished" + ("" if sent else "; group unreachable"))


async def _close(
    ctx: DTeamContext, row: ScheduledMessage, workshop: Workshop, me: str, now: Now
) -> Step:
    services = ctx.services
    # The close and "sent" in one transaction: marked sent before the close was saved, a crash
    # in between left the workshop open for good; after it, it loses at most the posts.
    try:
        async with services.db.write() as session:
            # Under the group's lock, as /close and /reopen: a /close by hand at the same moment
            # comes before (and this one skips) or after (and finds it closed); one announcement.
            await lock_chat(session, chat_id=workshop.chat_id)
            fresh = await get_workshop(session, workshop_id=pk(workshop))
            if fresh is None or fresh.status != OPEN:
                return Step(SKIPPED, "closed by hand before the end")
            await set_status(session, workshop=fresh, status=CLOSED)
            await finish(session, row_id=pk(row), me=me, status=SENT, detail="closing", now=now())
    except DBAPIError as exc:  # nothing saved: the row goes back to pending and comes again
        log.warning("closing workshop %s was not saved, trying again: %s", workshop.id, exc)
        return Step(SENT, f"close not saved ({type(exc).__name__})", again_at=now() + CLOSE_RETRY)
    aggregate = await timed_summary.store_aggregate(services, fresh)
    await send(
        ctx,
        fresh.chat_id,
        services.texts.get(services.default_language, "timed.closed", title=title(fresh)),
    )
    posted = await timed_summary.post_closing_summary(ctx, fresh)
    return Step(SENT, f"closed; {aggregate.get('n', 0)} finished; summary: {posted}")


async def _retention(
    ctx: DTeamContext,
    kind: Kind,
    workshop: Workshop,
    config: Config,
    now: Now,
) -> Step:
    ended = workshop.closed_at or workshop.ends_at
    if workshop.purged_at is not None:
        return Step(SKIPPED, "raw answers were deleted before")
    if workshop.status != CLOSED or ended is None:
        return Step(SENT, "session open again; waiting", again_at=now() + RECHECK_OPEN)
    purge_at = ended + config.retention
    due = purge_at - config.notice if kind is Kind.RETENTION_NOTICE and config.notice else purge_at
    if now() < due:  # the workshop was closed later than planned: wait for the real time
        return Step(SENT, "not yet", again_at=due)
    if kind is Kind.RETENTION_NOTICE:
        return await _notice(ctx, workshop, purge_at, config)
    # The same purge as the retention sweep (retention.py), which retries it if it fails.
    runs = await purge_one(ctx.services, workshop, now())
    return Step(SENT, f"deleted {runs} runs with their answers; aggregate kept")


async def purge_one(services: Services, workshop: Workshop, now: datetime) -> int:
    """Keeps the workshop's aggregate, then deletes its personal data; returns runs deleted."""
    assert workshop.id is not None
    await timed_summary.store_aggregate(services, workshop, only_if_missing=True)
    async with services.db.write() as session:
        return await purge_workshop(session, workshop_id=workshop.id, now=now)


async def _notice(
    ctx: DTeamContext, workshop: Workshop, purge_at: datetime, config: Config
) -> Step:
    services = ctx.services
    async with services.db.read() as session:
        moderator = await get_participant(session, telegram_id=workshop.created_by)
    lang = services.texts.language(moderator.language if moderator else None)
    text = services.texts.get(
        lang,
        "timed.retention_notice",
        title=title(workshop),
        when=local(services, purge_at, lang),
        days=config.retention.days,
    )
    try:
        sent = await send(ctx, workshop.created_by, text)
    except TelegramError as exc:  # e.g. the moderator never started a private chat
        log.info("retention notice to %s failed: %s", workshop.created_by, exc)
        sent = None
    return Step(SENT if sent else SKIPPED, "moderator told" if sent else "moderator unreachable")

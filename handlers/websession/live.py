"""The live message in each group: combined, throttled edits from a periodic job."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from typing import Any

from telegram.error import BadRequest, RetryAfter, TelegramError

from handlers.core import render
from handlers.core.context import SERVICES_KEY, DTeamContext, Services
from handlers.core.i18n import escape
from handlers.core.moderation import join_link, title_of, to_group
from handlers.core.sending import edit_or_send
from storage.groups import WorkshopCounts, finished_members, workshop_counts
from storage.models import Workshop
from storage.types import pk, utcnow
from storage.workshops import (
    CLOSED,
    claim_live,
    dirty_workshops,
    get_workshop,
    mark_live_dirty,
    set_live,
)
from typology.group import disclosed_counts, percent_shares
from typology.types import TYPES

log = logging.getLogger(__name__)

# Telegram allows about 20 messages a minute per group, edits included. The live message takes
# at most this many, leaving the rest for commands (/summary, /teams, refusals).
LIVE_EDITS_PER_MINUTE = 12


def min_gap(services: Services) -> float:
    """Returns the least time between two live edits in one group, in seconds."""
    return max(services.live_interval, 60.0 / LIVE_EDITS_PER_MINUTE)


def mark_group_message(services: Services, chat_id: int) -> None:
    """Counts a message just sent to the group, so the next live edit keeps its distance."""
    services.live_edited[chat_id] = time.monotonic()


def render_live(
    services: Services,
    workshop: Workshop,
    counts: WorkshopCounts,
    types: Counter[str],
    lang: str,
) -> str:
    """Renders the live message: joined, finished, and the disclosed composition (`types`)."""
    t = services.texts
    lines = [
        t.get(lang, "moderation.live.title", title=escape(title_of(services, workshop, lang))),
        t.get(lang, "moderation.live.counts", joined=counts.joined, finished=counts.finished),
        "",
    ]
    n, k = sum(types.values()), services.privacy_threshold
    if n < k:
        lines.append(t.get(lang, "moderation.live.waiting", k=k))
    else:
        lines.append(t.get(lang, "moderation.live.composition"))
        counts_by_type = [types.get(type_id.value, 0) for type_id in TYPES]
        for type_id, count, share in zip(
            TYPES, counts_by_type, percent_shares(counts_by_type), strict=True
        ):
            name = escape(render.type_name(services, type_id, lang))
            lines.append(f"• {name}: {count} ({share} %)")
        if n < counts.finished:
            lines.append(t.get(lang, "moderation.live.steps", counted=n, k=k))
    lines.append("")
    if workshop.status == CLOSED:
        lines.append(t.get(lang, "moderation.live.closed"))
    else:
        lines.append(t.get(lang, "moderation.live.join", link=join_link(services, workshop.code)))
    return "\n".join(lines)


async def live_snapshot(services: Services, session: Any, workshop: Workshop) -> str:
    """Reads the workshop's numbers in this session and renders the live text."""
    assert workshop.id is not None
    stuck_before = utcnow()
    counts = await workshop_counts(session, workshop_id=workshop.id, stuck_before=stuck_before)
    members = await finished_members(session, workshop_id=workshop.id)  # in finish order
    shown = disclosed_counts([m.main_type for m in members], services.privacy_threshold)
    types = Counter({t.value: c for t, c in shown.items()})
    return render_live(services, workshop, counts, types, services.default_language)


async def pin_quietly(ctx: DTeamContext, chat_id: int, message_id: int) -> None:
    """Pins the live message if the bot may; without the right it stays unpinned."""
    try:
        await ctx.bot.pin_chat_message(chat_id, message_id, disable_notification=True)
    except TelegramError as exc:
        log.info("cannot pin live message in %s: %s", chat_id, exc)


async def refresh_live(ctx: DTeamContext, workshop_id: int) -> None:
    """Claims a dirty workshop and edits its live message if the text changed."""
    services = ctx.services
    async with services.db.write() as session:
        if not await claim_live(session, workshop_id=workshop_id):
            return  # another replica (or tick) took it
        workshop = await get_workshop(session, workshop_id=workshop_id)
        if workshop is None:
            return
        text = await live_snapshot(services, session, workshop)
    if text == workshop.live_text and workshop.live_message_id is not None:
        return
    last = services.live_edited
    last[workshop.chat_id] = time.monotonic()
    old_id = workshop.live_message_id
    try:
        shown = await to_group(
            ctx, workshop.chat_id, lambda chat: edit_or_send(ctx, chat, old_id, text)
        )
    except RetryAfter as exc:
        log.warning("live edit in %s throttled by Telegram: %s", workshop.chat_id, exc)
        wait = exc.retry_after
        seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
        last[workshop.chat_id] = time.monotonic() + seconds
        await _mark_dirty(services, workshop_id)
        return
    except (BadRequest, TelegramError) as exc:
        log.warning("live edit in %s failed: %s", workshop.chat_id, exc)
        await _mark_dirty(services, workshop_id)
        return
    if shown is None:
        return  # the bot left or was removed from the group
    async with services.db.write() as session:
        fresh = await get_workshop(session, workshop_id=workshop_id)
        await set_live(session, workshop_id=workshop_id, message_id=shown, text=text)
    if shown != old_id and fresh is not None:
        await pin_quietly(ctx, fresh.chat_id, shown)


async def _mark_dirty(services: Services, workshop_id: int) -> None:
    async with services.db.write() as session:
        await mark_live_dirty(session, workshop_id=workshop_id)


async def job_live(ctx: DTeamContext) -> None:
    """Edits the live messages of workshops that changed, at most once per gap per group."""
    services = ctx.services
    lock = services.live_lock
    if lock.locked():
        return  # the previous tick is still editing
    async with lock:
        async with services.db.read() as session:
            dirty = await dirty_workshops(session)
        last = services.live_edited
        gap, seen = min_gap(services), set[int]()
        for workshop in dirty:
            now = time.monotonic()
            if workshop.chat_id in seen or now - last.get(workshop.chat_id, -math.inf) < gap:
                continue  # stays dirty: a later tick combines everything that happened
            seen.add(workshop.chat_id)
            try:
                await refresh_live(ctx, pk(workshop))
            except Exception:  # one broken group must not stop the others
                log.exception("live update of workshop %s failed", workshop.id)


def register_jobs(app: Any) -> None:
    """Schedules the live-message job on the Application's JobQueue."""
    services: Services = app.bot_data[SERVICES_KEY]
    if app.job_queue is None:
        log.warning("no JobQueue (install python-telegram-bot[job-queue]); no live messages")
        return
    interval = services.live_interval
    app.job_queue.run_repeating(
        job_live,
        interval=interval,
        first=interval,
        name="live",
        job_kwargs={"max_instances": 2, "coalesce": True},  # overlaps skip via the lock
    )

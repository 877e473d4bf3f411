"""/status and /export: answered privately to the moderator, never in the group."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import InputFile, Update
from telegram.error import Forbidden
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers.core.context import DTeamContext, Services
from handlers.core.i18n import escape
from handlers.core.moderation import (
    GroupCommand,
    ask_to_start,
    group_workshop,
    moderator_command,
    tell_moderator,
    title_of,
)
from handlers.core.sending import on_blocked
from handlers.websession.export_table import export_frame, to_csv, to_xlsx
from storage.groups import export_rows, workshop_counts
from storage.types import pk, utcnow
from storage.workshops import OPEN

log = logging.getLogger(__name__)

STUCK_MINUTES = 10


async def cmd_status(update: Update, ctx: DTeamContext) -> None:
    """Sends the moderator privately: joined, in progress by question, finished, stuck."""
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    services, lang = ctx.services, cmd.private_lang
    t = services.texts
    async with services.db.read() as session:
        counts = await workshop_counts(
            session,
            workshop_id=pk(workshop),
            stuck_before=utcnow() - timedelta(minutes=STUCK_MINUTES),
        )
    state = t.get(
        lang,
        "moderation.tools.state_open"
        if workshop.status == OPEN
        else "moderation.tools.state_closed",
    )
    lines = [
        t.get(
            lang,
            "moderation.tools.status",
            title=escape(title_of(services, workshop, lang)),
            state=state,
            joined=counts.joined,
            finished=counts.finished,
            in_progress=counts.in_progress,
            minutes=STUCK_MINUTES,
            stuck=counts.stuck,
        )
    ]
    if counts.by_item:
        ids = services.all_item_ids()
        lines += ["", t.get(lang, "moderation.tools.by_item")]
        for item, count in sorted(counts.by_item.items(), key=lambda kv: _position(ids, kv[0])):
            n, label = _numbered(services, item)
            lines.append(
                t.get(lang, "moderation.tools.item_line", n=n, item=escape(label), count=count)
            )
    await tell_moderator(ctx, cmd, "\n".join(lines))


def _position(ids: list[str], item: str) -> int:
    return ids.index(item) if item in ids else len(ids)


def _numbered(services: Services, item: str) -> tuple[int, str]:
    """Returns the question's number in its own version, and its id marked if that is older."""
    for q in [services.questionnaire, *services.questionnaires.values()]:
        ids = [it.id for it in q.items]
        if item in ids:
            older = q.version != services.questionnaire.version
            return ids.index(item) + 1, f"{item}, v{q.version}" if older else item
    return len(services.questionnaire.items) + 1, item


async def _send_file(
    ctx: DTeamContext, cmd: GroupCommand, data: bytes, name: str, caption: str
) -> bool:
    try:
        await ctx.bot.send_document(cmd.user_id, InputFile(data, filename=name), caption=caption)
    except Forbidden:
        await on_blocked(ctx, cmd.user_id)
        await ask_to_start(ctx, cmd)
        return False
    return True


async def cmd_export(update: Update, ctx: DTeamContext) -> None:
    """Sends the moderator privately a CSV and an XLSX file of the workshop (pseudonymous)."""
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    services = ctx.services
    assert workshop.id is not None
    async with services.db.read() as session:
        counts = await workshop_counts(session, workshop_id=workshop.id, stuck_before=utcnow())
        if counts.finished < services.privacy_threshold:
            log.info("export of workshop %s refused below the threshold", workshop.id)
            text = services.texts.get(
                cmd.private_lang,
                "moderation.tools.export_below",
                k=services.privacy_threshold,
                n=counts.finished,
            )
            await tell_moderator(ctx, cmd, text)
            return
        rows = await export_rows(session, workshop_id=workshop.id)
        frame = export_frame(
            rows,
            services.all_item_ids(),
            key=services.pseudonym_key,
            workshop_id=workshop.id,
        )
    caption = services.texts.get(
        cmd.private_lang,
        "moderation.tools.export_caption",
        title=title_of(services, workshop, cmd.private_lang),
        rows=len(frame),
    )[:1024]
    base = f"dteam-session-{workshop.id}"
    # Seconds of work for a large workshop: off the event loop, so taps go on meanwhile.
    if await _send_file(ctx, cmd, await asyncio.to_thread(to_csv, frame), f"{base}.csv", caption):
        xlsx = await asyncio.to_thread(to_xlsx, frame)
        await _send_file(ctx, cmd, xlsx, f"{base}.xlsx", caption)
    log.info("export of workshop %s (%d runs) to its moderator", workshop.id, len(frame))


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers."""
    groups = filters.ChatType.GROUPS
    return [
        CommandHandler("status", cmd_status, filters=groups),
        CommandHandler("export", cmd_export, filters=groups),
    ]

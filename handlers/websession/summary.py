"""/summary: the D-Team post in the group and, where configured, in the channel."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from functools import partial

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from handlers.core.context import DTeamContext, Services
from handlers.core.moderation import (
    GroupCommand,
    group_workshop,
    moderator_command,
    tell_moderator,
    title_of,
    to_group,
)
from handlers.core.sending import send, send_photo
from handlers.websession.summary_text import summary_caption, summary_text
from storage.groups import finished_members
from storage.models import Workshop
from storage.types import pk
from typology.charts import composition_chart
from typology.group import GroupAnalysis, Member, analyse
from typology.questionnaire import SKIP
from typology.types import TypeId

log = logging.getLogger(__name__)

CONTEXT_KEYS = ("role", "size")


def _answered(context: dict[str, str]) -> dict[str, str]:
    """Drops skipped context questions, so they form no breakdown cell."""
    return {k: v for k, v in context.items() if v != SKIP}


async def workshop_analysis(services: Services, workshop: Workshop) -> GroupAnalysis:
    """Analyses the latest finished run of each participant of the workshop."""
    async with services.db.read() as session:
        rows = await finished_members(
            session,
            workshop_id=pk(workshop),
            context_items=CONTEXT_KEYS,
        )
    members = [
        Member(str(r.run_id), TypeId(r.main_type), r.profile, _answered(r.context), r.mixed)
        for r in rows
    ]
    return analyse(members, k_threshold=services.privacy_threshold, context_keys=CONTEXT_KEYS)


async def post_dteam_summary(
    ctx: DTeamContext, chat_id: int, analysis: GroupAnalysis, title: str, lang: str
) -> None:
    """Posts the chart and the D-Team text (or how many answers are missing) to one chat."""
    services = ctx.services
    profiles = services.profiles[lang]
    labels = services.questionnaire.dimension_labels[lang]
    text = summary_text(
        services.texts, profiles, analysis, title=title, lang=lang, goal_labels=labels
    )
    if not analysis.below_threshold:
        chart_title = services.texts.get(lang, "moderation.summary.chart_title")
        png = await asyncio.to_thread(
            partial(
                composition_chart,
                analysis.counts,
                lang=lang,
                title=chart_title,
                workshop=title,
                day=datetime.now(services.timezone).date(),
            )
        )
        caption = summary_caption(services.texts, analysis, title=title, lang=lang)
        try:
            await to_group(ctx, chat_id, lambda chat: send_photo(ctx, chat, png, caption))
        except TelegramError as exc:
            # The text carries the composition; a refused chart must not also cost it.
            log.warning("summary chart for %s not posted (%s); posting the text", chat_id, exc)
    await to_group(ctx, chat_id, lambda chat: send(ctx, chat, text))


async def channel_ready(ctx: DTeamContext, channel_id: int) -> bool:
    """Tells whether the bot is an administrator of the channel who may post."""
    try:
        member = await ctx.bot.get_chat_member(channel_id, ctx.bot.id)
    except Exception:  # unknown channel, no access: same answer for the moderator
        log.warning("cannot ask for the bot's rights in channel %s", channel_id, exc_info=True)
        return False
    if member.status == ChatMemberStatus.OWNER:
        return True
    return member.status == ChatMemberStatus.ADMINISTRATOR and bool(
        getattr(member, "can_post_messages", False)
    )


def may_reach_channel(services: Services, chat_id: int, user_id: int | None = None) -> bool:
    """Tells whether a post from this group (by this user) may go to the operator's channel.

    Any group's admin is a moderator there, so a group's own rights are no reason: only the
    groups in DTEAM_CHANNEL_GROUPS, or a command by someone in DTEAM_MODERATORS, reach it.
    """
    return chat_id in services.channel_groups or (
        user_id is not None and user_id in services.moderators
    )


async def _refuse_channel(ctx: DTeamContext, cmd: GroupCommand) -> None:
    """Tells the moderator, privately or else in the group, that the channel stays untouched."""
    log.info(
        "channel post from group %s by %s refused: group not allowed", cmd.chat_id, cmd.user_id
    )
    t = ctx.services.texts
    private = t.get(cmd.private_lang, "moderation.summary.channel_refused")
    if await send(ctx, cmd.user_id, private) is not None:
        return
    await send(ctx, cmd.chat_id, t.get(cmd.lang, "moderation.summary.channel_refused"))


async def _to_channel(
    ctx: DTeamContext, cmd: GroupCommand, analysis: GroupAnalysis, title: str
) -> None:
    services, channel = ctx.services, ctx.services.channel_id
    if channel is None or analysis.below_threshold:
        return
    if not may_reach_channel(services, cmd.chat_id, cmd.user_id):
        await _refuse_channel(ctx, cmd)
        return
    t = services.texts
    if not await channel_ready(ctx, channel):
        await tell_moderator(
            ctx, cmd, t.get(cmd.private_lang, "moderation.summary.channel_missing")
        )
        return
    await post_dteam_summary(ctx, channel, analysis, title, cmd.lang)
    await tell_moderator(ctx, cmd, t.get(cmd.private_lang, "moderation.summary.channel_posted"))


async def cmd_summary(update: Update, ctx: DTeamContext) -> None:
    """Posts the group's D-Team composition, or how many more answers it needs."""
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    analysis = await workshop_analysis(ctx.services, workshop)
    title = title_of(ctx.services, workshop, cmd.lang)
    await post_dteam_summary(ctx, cmd.chat_id, analysis, title, cmd.lang)
    await _to_channel(ctx, cmd, analysis, title)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers."""
    return [CommandHandler("summary", cmd_summary, filters=filters.ChatType.GROUPS)]

"""/teams <size>: D-Team breakout groups; each participant learns their team privately."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers.core import render
from handlers.core.callbacks import Action, parse
from handlers.core.callbacks import build as cb
from handlers.core.context import DTeamContext, Services
from handlers.core.flow import consented, language_of, write_tx
from handlers.core.i18n import escape
from handlers.core.moderation import group_workshop, moderator_command, title_of
from handlers.core.sending import send
from storage.groups import FinishedMember, assign_teams, finished_members
from storage.participants import set_share_name
from storage.types import pk
from typology.group import build_teams, team_count
from typology.types import TYPES, TypeId

log = logging.getLogger(__name__)

MAX_TEAM_SIZE = 20
MAX_MESSAGE = 4000
PRIVATE_PER_SECOND = 20  # below Telegram's 30 messages/s overall, leaving room for answers


def team_mix(services: Services, members: list[FinishedMember], lang: str) -> str:
    """Returns a team's type mix without names, e.g. "2× Optimierer, 1× Community Manager"."""
    counts = Counter(TypeId(m.main_type) for m in members)
    return ", ".join(
        f"{counts[t]}× {escape(render.type_name(services, t, lang))}" for t in TYPES if counts[t]
    )


def chunks(lines: list[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Joins lines into messages of at most limit characters."""
    out: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*out, current] if current else out


def _notice(
    services: Services,
    member: FinishedMember,
    team_no: int,
    team: list[FinishedMember],
    title: str,
) -> str:
    t, lang = services.texts, services.texts.language(member.language)
    others = [m for m in team if m.run_id != member.run_id]
    named = [m.first_name or "?" for m in others if m.share_name]
    lines = [
        t.get(lang, "moderation.teams.notice", n=team_no, title=escape(title), size=len(team))
    ]
    if named:
        lines.append(t.get(lang, "moderation.teams.named", names=", ".join(named)))
        if len(others) > len(named):
            lines.append(t.get(lang, "moderation.teams.others", k=len(others) - len(named)))
    else:
        lines.append(t.get(lang, "moderation.teams.anonymous"))
    if not member.share_name:
        lines += ["", t.get(lang, "moderation.teams.share_hint")]
    return "\n".join(lines)


async def _notify(ctx: DTeamContext, teams: list[list[FinishedMember]], title: str) -> None:
    """Tells every participant privately their team, paced below the overall flood limit."""
    services = ctx.services
    for team_no, team in enumerate(teams, 1):
        for member in team:
            if member.blocked:
                continue
            lang = services.texts.language(member.language)
            markup = (
                None
                if member.share_name
                else render.keyboard(
                    [
                        (
                            services.texts.get(lang, "moderation.teams.share_button"),
                            cb(Action.SHARE_NAME, "on"),
                        )
                    ]
                )
            )
            try:
                await send(
                    ctx,
                    member.telegram_id,
                    _notice(services, member, team_no, team, title),
                    markup,
                )
            except Exception:  # one failed notice must not stop the others
                log.warning(
                    "team notice to participant %s failed", member.participant_id, exc_info=True
                )
            await asyncio.sleep(1 / PRIVATE_PER_SECOND)


async def cmd_teams(update: Update, ctx: DTeamContext) -> None:
    """Forms breakout teams covering as many types as possible and posts them without names."""
    cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    services, t = ctx.services, ctx.services.texts
    args = ctx.args or []
    # isdigit() also accepts "²" and other digits int() refuses: ASCII digits only.
    size = int(args[0]) if args and args[0].isascii() and args[0].isdecimal() else 0
    if not 2 <= size <= MAX_TEAM_SIZE:
        await send(ctx, cmd.chat_id, t.get(cmd.lang, "moderation.teams.usage", max=MAX_TEAM_SIZE))
        return
    k = services.privacy_threshold
    if size < k:  # a team's mix is posted: below k it would tell teammates each other's type
        await send(ctx, cmd.chat_id, t.get(cmd.lang, "moderation.teams.min_size", k=k))
        return
    async with services.db.read() as session:
        members = await finished_members(session, workshop_id=pk(workshop))
    n = len(members)
    if n < services.privacy_threshold:
        needed = services.privacy_threshold - n
        text = t.get(
            cmd.lang, "moderation.summary.below", needed=needed, n=n, k=services.privacy_threshold
        )
        await send(ctx, cmd.chat_id, text)
        return
    if size > n:
        await send(ctx, cmd.chat_id, t.get(cmd.lang, "moderation.teams.too_big", size=size, n=n))
        return
    by_run = {m.run_id: m for m in members}
    split = build_teams(
        [(str(m.run_id), TypeId(m.main_type)) for m in members],
        size,
        seed=pk(workshop),
        min_size=k,
    )
    teams = [[by_run[int(run_id)] for run_id in team] for team in split]
    async with write_tx(ctx, update) as (session, is_new):
        if not is_new:
            return
        await assign_teams(
            session,
            workshop_id=pk(workshop),
            teams={m.run_id: no for no, team in enumerate(teams, 1) for m in team},
        )
    lines = [t.get(cmd.lang, "moderation.teams.title", teams=len(teams))]
    if len(teams) < (wanted := team_count(n, size)):
        lines.append(
            t.get(cmd.lang, "moderation.teams.merged", k=k, teams=len(teams), wanted=wanted)
        )
    lines += [
        t.get(
            cmd.lang,
            "moderation.teams.line",
            n=no,
            size=len(team),
            mix=team_mix(services, team, cmd.lang),
        )
        for no, team in enumerate(teams, 1)
    ]
    lines += ["", t.get(cmd.lang, "moderation.teams.footer")]
    for text in chunks(lines):
        await send(ctx, cmd.chat_id, text)
    title = title_of(services, workshop, cmd.lang)
    ctx.application.create_task(_notify(ctx, teams, title), name=f"teams-{workshop.id}")


async def on_share_name(update: Update, ctx: DTeamContext) -> None:
    """Records whether the participant's first name may be shown to their breakout team."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    on = parse(query.data).args[0] == "on"
    async with write_tx(ctx, update) as (session, _):
        participant = await consented(session, user)
        if participant is not None:
            await set_share_name(session, participant=participant, on=on)
    lang = language_of(ctx.services, participant, user)
    if participant is None:  # only someone who took part has a name to share
        await query.answer(ctx.services.texts.get(lang, "errors.bad_button"))
        return
    key = "moderation.teams.share_on" if on else "moderation.teams.share_off"
    await query.answer(ctx.services.texts.get(lang, key), show_alert=False)


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns this module's handlers, in order."""
    return [
        CommandHandler("teams", cmd_teams, filters=filters.ChatType.GROUPS),
        CallbackQueryHandler(on_share_name, pattern=rf"^{Action.SHARE_NAME}:"),
    ]

"""/beamer: the link to the workshop's presenter page, its revocation and the reveal switch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseHandler, CommandHandler

from handlers.core.context import DTeamContext, Services
from handlers.core.flow import language_of, write_tx
from handlers.core.moderation import (
    GroupCommand,
    group_workshop,
    moderator_command,
    tell_moderator,
    title_of,
)
from handlers.core.permissions import is_moderator
from handlers.core.screen_token import LIFETIME_SECONDS, SCREEN_PATH, mint
from handlers.core.sending import send
from storage.models import Workshop
from storage.participants import get_participant
from storage.screen import latest_workshop_created_by, revoke_screens, set_revealed

log = logging.getLogger(__name__)


def screen_url(services: Services, workshop: Workshop, *, now: float | None = None) -> str:
    """Returns a fresh signed link to the workshop's presenter page."""
    assert workshop.id is not None
    token = mint(
        services.screen_key, workshop_id=workshop.id, epoch=workshop.screen_epoch, now=now
    )
    return f"{services.web_root}{SCREEN_PATH}{token}"


async def _private_command(update: Update, ctx: DTeamContext) -> GroupCommand | None:
    """Narrows a private /beamer to the newest workshop its sender opened and still moderates."""
    user, services = update.effective_user, ctx.services
    if user is None:
        return None
    async with services.db.read() as session:
        workshop = await latest_workshop_created_by(session, user_id=user.id)
        participant = await get_participant(session, telegram_id=user.id)
    lang = language_of(services, participant, user)
    if workshop is None:
        await send(ctx, user.id, services.texts.get(lang, "screen.no_session_private"))
        return None
    if not await is_moderator(ctx, workshop.chat_id, user.id):
        log.info(
            "refused private /beamer to %s: no longer moderates %s", user.id, workshop.chat_id
        )
        await send(ctx, user.id, services.texts.get(lang, "moderation.refused"))
        return None
    return GroupCommand(workshop.chat_id, user.id, services.default_language, lang)


async def cmd_beamer(update: Update, ctx: DTeamContext) -> None:
    """Sends the presenter link privately, or revokes links, or reveals or hides the results."""
    chat = update.effective_chat
    if chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        cmd = await _private_command(update, ctx)
    else:
        cmd = await moderator_command(update, ctx)
    if cmd is None or (workshop := await group_workshop(ctx, cmd)) is None:
        return
    services, lang = ctx.services, cmd.private_lang
    t, title = services.texts, title_of(services, workshop, cmd.private_lang)
    action = (ctx.args or [""])[0].lower()
    if action in ("", "on"):
        until = datetime.fromtimestamp(
            datetime.now(UTC).timestamp() + LIFETIME_SECONDS, services.timezone
        )
        url = screen_url(services, workshop)
        text = t.get(lang, "screen.link", title=title, url=url, until=f"{until:%d.%m.%Y %H:%M}")
        await tell_moderator(ctx, cmd, text)
        return
    if action not in ("off", "reveal", "hide"):
        await tell_moderator(ctx, cmd, t.get(lang, "screen.usage"))
        return
    async with write_tx(ctx, update) as (session, is_new):
        if is_new and action == "off":
            await revoke_screens(session, workshop_id=workshop.id)  # type: ignore[arg-type]
        elif is_new:
            revealed = action == "reveal"
            await set_revealed(session, workshop_id=workshop.id, revealed=revealed)  # type: ignore[arg-type]
    if not is_new:
        return
    key = {"off": "screen.revoked", "reveal": "screen.revealed", "hide": "screen.hidden"}[action]
    await tell_moderator(ctx, cmd, t.get(lang, key, title=title))


def handlers() -> list[BaseHandler[Update, DTeamContext, None]]:
    """Returns /beamer, in groups and in private chats."""
    return [CommandHandler("beamer", cmd_beamer)]

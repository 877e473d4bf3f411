"""The error handler: log with context, answer the user politely, never crash."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.core import outcome
from handlers.core.callbacks import BadCallback
from handlers.core.context import DTeamContext
from handlers.core.sending import send

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: DTeamContext) -> None:
    """Logs an error from a handler and tells the user to try again where that helps."""
    err = ctx.error
    upd = update if isinstance(update, Update) else None
    uid = upd.update_id if upd else None
    if isinstance(err, BadCallback):
        log.warning("update %s: ignored callback data this bot did not make: %s", uid, err)
        await _toast(upd, ctx, "errors.bad_button")
        return
    if isinstance(err, Forbidden):
        log.info("update %s: user blocked the bot", uid)
        return
    if _answered_before(update, err):
        log.info("update %s: delivered again; its callback query was answered before", uid)
        return
    if isinstance(err, OperationalError | DBAPIError):
        log.error("update %s: database error: %s", uid, err)
        outcome.failed(err, retry=True)
        if not outcome.will_be_redelivered():  # a webhook update comes again by itself
            await _tell(upd, ctx, "errors.database")
        return
    if isinstance(err, RetryAfter | NetworkError):
        log.warning("update %s: Telegram unavailable: %s", uid, err)
        # BadRequest is a NetworkError in PTB, but a refused request stays refused.
        outcome.failed(err, retry=not isinstance(err, BadRequest))
        return
    log.error("update %s: unhandled error", uid, exc_info=err)
    outcome.failed(err, retry=False)
    await _tell(upd, ctx, "errors.generic")


def _answered_before(update: object, err: object) -> bool:
    """Tells whether a re-delivered update failed only on answering its query a second time."""
    seen = outcome.current(update)
    return (
        seen is not None
        and seen.duplicate
        and isinstance(err, BadRequest)
        and "query is too old" in err.message.lower()
    )


async def _toast(update: Update | None, ctx: DTeamContext, key: str) -> None:
    if update is None or update.callback_query is None:
        return
    try:
        await update.callback_query.answer(ctx.services.texts.get(None, key))
    except TelegramError as exc:  # already answered, or too old: nothing more to do
        log.debug("could not answer callback: %s", exc)


async def _tell(update: Update | None, ctx: DTeamContext, key: str) -> None:
    chat = update.effective_chat if update else None
    if chat is None or chat.type != "private":
        return
    try:
        await send(ctx, chat.id, ctx.services.texts.get(None, key))
    except Exception:  # the error path must never raise
        log.warning("could not tell user %s about an error", chat.id, exc_info=True)

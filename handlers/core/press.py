"""The preamble every button handler shares: the press, who pressed, and on which message."""

from __future__ import annotations

from telegram import CallbackQuery, MaybeInaccessibleMessage, Update, User


async def button(
    update: Update, *, answer: bool = True
) -> tuple[CallbackQuery, User, MaybeInaccessibleMessage] | None:
    """Returns the press with its sender and message, answered unless answer=False.

    None (and nothing answered) for anything else: an update without a callback query, a
    sender or a message (Telegram leaves the message out for inline-mode buttons). Handlers
    that answer with a toast of their own pass answer=False and answer later.
    """
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or query.message is None:
        return None
    if answer:
        await query.answer()
    return query, user, query.message

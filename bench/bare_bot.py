"""A bare python-telegram-bot click-through bot: the baseline for bench_journey (no storage).

Run: python bench/bare_bot.py API_ROOT TOKEN QUESTIONS THROTTLE(1|0) [TRANSPORT]

TRANSPORT is `httpx` (PTB's default HTTPXRequest, the default here) or `aiohttp` (D-Team's
AiohttpRequest), so that the cost of storage and scoring can be told apart from the gain of
the faster transport.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bot.http import AiohttpRequest

QUESTIONS = int(sys.argv[3]) if len(sys.argv) > 3 else 15
THROTTLE = sys.argv[4] != "0" if len(sys.argv) > 4 else True
TRANSPORT = sys.argv[5] if len(sys.argv) > 5 else "httpx"


def keyboard(n: int) -> InlineKeyboardMarkup:
    """Five answer buttons for question n."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Option {o}", callback_data=f"a:{n}:{o}")] for o in range(1, 6)]
    )


async def cmd_start(update: Update, _ctx: CallbackContext) -> None:  # type: ignore[type-arg]
    """Sends a consent button, like the real bot's welcome."""
    assert update.message is not None
    await update.message.reply_text(
        "Welcome",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="c:0")]]),
    )


async def on_button(update: Update, _ctx: CallbackContext) -> None:  # type: ignore[type-arg]
    """Answers the press and shows the next question, or a final message."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    await query.answer()
    n = 0 if query.data == "c:0" else int(query.data.split(":")[1])
    if n < QUESTIONS:
        await query.edit_message_text(
            f"Frage {n + 1} von {QUESTIONS}", reply_markup=keyboard(n + 1)
        )
    else:
        await query.edit_message_text("Danke!")
        assert query.message is not None
        again = InlineKeyboardMarkup([[InlineKeyboardButton("Nochmal", callback_data="n")]])
        await query.message.chat.send_message("Ergebnis", reply_markup=again)


async def main() -> None:
    """Polls until SIGTERM."""
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    root, token = sys.argv[1], sys.argv[2]
    builder = ApplicationBuilder().token(token)
    if TRANSPORT == "aiohttp":
        builder = builder.request(
            AiohttpRequest(connection_pool_size=24, trust_env=False)
        ).get_updates_request(AiohttpRequest(connection_pool_size=2, trust_env=False))
    elif TRANSPORT != "httpx":
        raise SystemExit(f"unknown transport {TRANSPORT!r}: httpx or aiohttp")
    else:
        builder = builder.connection_pool_size(24).get_updates_connection_pool_size(2)
    app = (
        builder.base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .rate_limiter(
            AIORateLimiter(max_retries=5)
            if THROTTLE
            else AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=5)
        )
        .concurrent_updates(16)
        .build()
    )
    app.add_handler(CommandHandler("start", cmd_start))
    app.add_handler(CallbackQueryHandler(on_button))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=30)
        print("ready", flush=True)
        await stop.wait()
        await app.updater.stop()
        await app.stop()


if __name__ == "__main__":
    asyncio.run(main())

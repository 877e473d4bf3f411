"""bench/clickthrough.py and bench/bare_bot.py: the journey bench's baseline really finishes.

The bare bot's final button kept the old restart data ("n:0") after D-Team's became "n": every
bare participant then waited the full timeout for a final message it had already got, the
bench printed 200 failures and a baseline throughput set by the timeout, and nobody noticed.
"""

from __future__ import annotations

import os
import sys

from bench.bench_journey import BARE_TOKEN, PRESSES
from bench.clickthrough import AGAIN, click_through
from handlers.core.callbacks import Action
from sandbox.server import BotApiServer
from tests.support.bots import spawn, stop_process


def test_the_final_button_is_d_teams_restart() -> None:
    assert Action.RESTART.value == AGAIN


async def test_every_bare_participant_finishes() -> None:
    async with BotApiServer() as server:
        server.add_bot(BARE_TOKEN, username="bare_bot")
        bare = await spawn(
            [
                sys.executable,
                "bench/bare_bot.py",
                server.root,
                BARE_TOKEN,
                str(PRESSES - 1),
                "0",
                "aiohttp",
            ],
            dict(os.environ),
            "ready",
        )
        try:
            figures = await click_through(
                server, BARE_TOKEN, 3, "bare", presses=PRESSES, timeout=20
            )
        finally:
            await stop_process(bare)
    assert figures.failures == 0
    assert figures.presses == 3 * PRESSES

"""A crowd finishes at once while the moderator sends /summary, /close and /reopen.

The real bot polls the stand-in with Telegram's limits on and production pacing (20/min per
group, the live message edited as often as its budget allows). N finished runs are written
into the database while the moderator works, as the questionnaire handler would, each marking
the live message dirty, so the live message is busy throughout. Meanwhile the moderator sends
/summary and right after it /close, and /reopen 15 s later, in rounds of 30 s; printed: the
latency of each command's reply (target < 2 s). Baseline in the same run: the same scene
with first-come-first-served pacing (every message treated alike, as before replies went
first).
Run: .venv/bin/python bench/bench_interactive.py [N] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_live import GROUP, MOD, finish_all  # noqa: E402
from sandbox.models import StoredMessage  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.e2e.harness import BOT_USERNAME, TOKEN, BotProcess, make_settings  # noqa: E402
from tests.e2e.websession import make_group, open_session  # noqa: E402
from tests.support.database import opened  # noqa: E402

ROUND = 30.0  # seconds: /summary and /close at once, /reopen half-way, then the next round
COMMANDS: list[tuple[str, Callable[[StoredMessage], bool]]] = [
    ("/summary", lambda m: "Das D-Team" in (m.text or "") or "D-Team" in (m.caption or "")),
    ("/close", lambda m: "ist geschlossen" in (m.text or "") and "Live" not in (m.text or "")),
    ("/reopen", lambda m: "wieder" in (m.text or "") and "Live" not in (m.text or "")),
]


async def _command(
    sandbox: BotApiServer, text: str, done: Callable[[StoredMessage], bool]
) -> float:
    mark = sandbox.mark()
    began = time.monotonic()
    sandbox.send_text(MOD, text, chat_id=GROUP)
    await sandbox.wait_for(done, 120, chat_id=GROUP, since=mark)
    return time.monotonic() - began


async def _scene(n: int, rounds: int) -> tuple[dict[str, list[float]], int]:
    """Returns each command's latencies and the number of live edits during the crowd."""
    sandbox = BotApiServer()
    await sandbox.start()
    sandbox.add_bot(TOKEN, username=BOT_USERNAME)
    make_group(sandbox, GROUP, MOD)
    latencies: dict[str, list[float]] = {text: [] for text, _ in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
        bot = BotProcess(
            sandbox, make_settings(sandbox.root, url, throttle=True, live_interval=1.0)
        )
        await bot.start()
        try:
            async with opened(url) as db:
                sandbox.set_limits(enabled=True)
                await open_session(sandbox, MOD, GROUP, "Benchmark")
                await asyncio.sleep(12)  # the session post's burst has drained
                mark = sandbox.mark()
                crowd = asyncio.create_task(finish_all(db, GROUP, n, rounds * ROUND))
                await asyncio.sleep(3.0)  # the crowd is finishing; the live message is busy
                for _ in range(rounds):
                    began = time.monotonic()
                    # As in the workshop that filed the issue: /close right after /summary.
                    for text, done in COMMANDS[:2]:
                        latencies[text].append(await _command(sandbox, text, done))
                    await asyncio.sleep(ROUND / 2 - (time.monotonic() - began))
                    text, done = COMMANDS[2]
                    latencies[text].append(await _command(sandbox, text, done))
                    await asyncio.sleep(ROUND - (time.monotonic() - began))
                await crowd
        finally:
            await bot.stop()
    edits = [
        c
        for c in sandbox.calls_to("editMessageText")
        if c.chat_id == GROUP and c.status == 200 and c.seq > mark
    ]
    await sandbox.stop()
    return latencies, len(edits)


def _line(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):5.2f} s  max {max(values):5.2f} s  "
        f"({', '.join(f'{v:.2f}' for v in values)})"
    )


async def main(n: int = 200, rounds: int = 3) -> None:
    """Runs the scene with replies first, then first-come-first-served, and prints both."""
    put_first, edits = await _scene(n, rounds)
    with mock.patch("bot.pacing.urgent", return_value=True):
        fifo, fifo_edits = await _scene(n, rounds)
    print(
        f"crowd: {n} finish within {rounds * ROUND:.0f} s; the moderator sends {rounds} rounds"
        " of /summary + /close at once, /reopen 15 s later"
    )
    for text, _ in COMMANDS:
        print(f"{text:9s} replies first:      {_line(put_first[text])}")
        print(f"{text:9s} first come first:   {_line(fifo[text])}")
    every = [v for values in put_first.values() for v in values]
    print(f"moderator's replies under 2 s: {sum(v < 2 for v in every)} of {len(every)}")
    print(f"live edits in the group meanwhile: {edits} (first come first served: {fifo_edits})")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 200, int(args[1]) if len(args) > 1 else 3))

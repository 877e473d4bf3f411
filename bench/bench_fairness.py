"""One user floods 100 updates/s: other users' reply latency against an idle bot's.

The real bot (`dteam run`, polling, then webhook, in its own process) runs against the
stand-in with Telegram's limits on and production pacing. Twenty other users each send /help
every 2.5 s (their own chat's pace); their reply latency is measured first on an idle bot,
then while one user sends 100 texts a second to another bot (the stand-in's and this
script's own cost: they share the machine), then while that user floods this bot; the three
phases alternate in blocks of 5 s, so that load from elsewhere falls on each alike.
Printed: p50/p99/max of both phases, the p99 ratio (target <= 1.5x), and what became of the
flood (dropped, answered). Run: .venv/bin/python bench/bench_fairness.py [SECONDS] [OTHERS]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_journey import _spawn, _stop  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.e2e.harness import BOT_USERNAME, TOKEN  # noqa: E402
from tests.e2e.webhook_harness import free_port  # noqa: E402

FLOODER = 8000
RATE = 100.0  # flood updates per second
SECRET = "bench-secret_1"
OTHER_TOKEN = "999999:a-bot-nobody-runs"  # control: the stand-in floods, the bot sees nothing
GAP = 2.5  # seconds between one user's probes: their own chat's pace
BLOCK = 5.0  # seconds per block of each phase


async def _probe(sandbox: BotApiServer, user: int) -> float:
    mark = sandbox.mark()
    began = time.monotonic()
    sandbox.send_text(user, "/help")
    await sandbox.wait_for(lambda _m: True, 120, chat_id=user, since=mark)
    return time.monotonic() - began


async def _probes(sandbox: BotApiServer, users: list[int], seconds: float) -> list[float]:
    """Each user probes every GAP seconds, staggered; returns every latency."""

    async def one(n: int, user: int) -> list[float]:
        await asyncio.sleep(n * GAP / len(users))
        start, out = time.monotonic(), []
        while time.monotonic() - start < seconds:
            began = time.monotonic()
            out.append(await _probe(sandbox, user))
            await asyncio.sleep(max(0.0, GAP - (time.monotonic() - began)))
        return out

    results = await asyncio.gather(*(one(n, u) for n, u in enumerate(users)))
    return [x for r in results for x in r]


async def _flooded(
    sandbox: BotApiServer, users: list[int], seconds: float, token: str
) -> tuple[list[float], int]:
    """Probes while FLOODER floods the bot with this token; returns latencies and updates sent."""
    stop = asyncio.Event()
    flood = asyncio.create_task(_flood(sandbox, seconds + GAP, stop, token))
    await asyncio.sleep(1.0)  # the flood is under way
    latencies = await _probes(sandbox, users, seconds)
    stop.set()
    return latencies, await flood


async def _flood(sandbox: BotApiServer, seconds: float, stop: asyncio.Event, token: str) -> int:
    sent, start = 0, time.monotonic()
    while not stop.is_set() and time.monotonic() - start < seconds:
        sandbox.send_text(FLOODER, f"Weitergeleitet {sent}", token=token)
        sent += 1
        await asyncio.sleep(max(0.0, start + sent / RATE - time.monotonic()))
    return sent


async def _metric(port: int, name: str) -> int:
    async with (
        aiohttp.ClientSession(trust_env=False) as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        text = await resp.text()
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(name))


def _figures(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"n={len(values):3d}  p50 {statistics.median(values) * 1000:7.1f} ms  "
        f"p99 {p99 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"
    )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def _mode(webhook: bool, seconds: float, others: int) -> None:
    sandbox = BotApiServer()
    await sandbox.start()
    sandbox.add_bot(TOKEN, username=BOT_USERNAME)
    sandbox.add_bot(OTHER_TOKEN, username="nobody_polls_bot")
    sandbox.settings.webhook_backoff = 0.2
    sandbox.set_limits(enabled=True)
    users = [8100 + n for n in range(others)]
    for user in (FLOODER, *users):
        sandbox.add_user(user, f"U{user}")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "DTEAM_BOT_TOKEN": TOKEN,
            "DTEAM_API_URL": sandbox.root,
            "DTEAM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite",
            "DTEAM_LISTEN_PORT": str(port),
            "DTEAM_LOG_LEVEL": "INFO",  # every dropped update is logged, as in production
        }
        cmd = [sys.executable, "-m", "bot.cli", "run"]
        if webhook:
            env.update(
                DTEAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", DTEAM_WEBHOOK_SECRET=SECRET
            )
            cmd.append("--webhook")
        bot = await _spawn(cmd, env, "webhook http" if webhook else "polling http")
        try:
            await _probes(sandbox, users, GAP)  # warm-up: every chat has been answered once
            # Short blocks, interleaved: a burst of load from elsewhere on the machine then
            # falls on all three phases alike instead of on one of them.
            idle, control, busy, sent = [], [], [], 0
            for _ in range(max(1, round(seconds / BLOCK))):
                idle += await _probes(sandbox, users, BLOCK)
                control += (await _flooded(sandbox, users, BLOCK, OTHER_TOKEN))[0]
                latencies, n = await _flooded(sandbox, users, BLOCK, TOKEN)
                busy, sent = busy + latencies, sent + n
                await asyncio.sleep(GAP * 5)  # the flooder's queue of 8 drains (paced)
            dropped = await _metric(port, "dteam_updates_dropped_total")
        finally:
            await _stop(bot)
    answered = len(sandbox.messages(FLOODER))
    await sandbox.stop()
    mode = "webhook" if webhook else "polling"
    print(f"{mode}: idle bot           {_figures(idle)}")
    print(f"{mode}: flood to another   {_figures(control)}  (stand-in's own cost)")
    print(f"{mode}: one user flooding  {_figures(busy)}")
    print(
        f"{mode}: p99 ratio          {_p99(busy) / _p99(idle):.2f}x of idle (target <= 1.5x), "
        f"{_p99(busy) / _p99(control):.2f}x of the stand-in flooding another bot"
    )
    print(
        f"{mode}: the flood          {sent} updates at {RATE:.0f}/s; dropped {dropped}, "
        f"{answered} replies to the flooder (paced ~1/s in their chat)"
    )


async def main(seconds: float = 20.0, others: int = 20) -> None:
    """Runs both modes and prints their figures."""
    await _mode(False, seconds, others)
    await _mode(True, seconds, others)


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(float(args[0]) if args else 20.0, int(args[1]) if len(args) > 1 else 20))

"""Throughput and press-to-answer latency of the real bot vs. a bare PTB bot, same sandbox.

Both bots run as separate processes polling one sandbox Bot API in this process; 200
participants click through concurrently. Run: .venv/bin/python bench/bench_journey.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.clickthrough import Figures, click_through  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.support.bots import spawn, stop_process  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

DTEAM_TOKEN = "111111:dteam-bench-token"
BARE_TOKEN = "222222:bare-bench-token"
PRESSES = 16  # consent + 15 questions


async def _spawn(cmd: list[str], env: dict[str, str], ready: str) -> asyncio.subprocess.Process:
    """Starts a bot or the bare bot; its log goes to $DTEAM_BENCH_LOG if set."""
    log = os.environ.get("DTEAM_BENCH_LOG")
    return await spawn(cmd, env, ready, log=Path(log) if log else None)


def _cpu_seconds(proc: asyncio.subprocess.Process) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    times = psutil.Process(proc.pid).cpu_times()
    return float(times.user + times.system)


async def _bare(
    server: BotApiServer, root: str, env: dict[str, str], n: int, throttle: bool, transport: str
) -> Figures:
    bare = await _spawn(
        [
            sys.executable,
            "bench/bare_bot.py",
            root,
            BARE_TOKEN,
            str(PRESSES - 1),
            "1" if throttle else "0",
            transport,
        ],
        env,
        "ready",
    )
    cpu = _cpu_seconds(bare)
    label = f"bare PTB bot ({transport})"
    figures = await click_through(server, BARE_TOKEN, n, label, presses=PRESSES)
    figures.cpu = _cpu_seconds(bare) - cpu
    await stop_process(bare)
    return figures


async def _pair(n: int, throttle: bool, database_url: str | None) -> None:
    """Runs both bare bots, then D-Team, against a fresh sandbox; prints all and the ratios.

    The issue's baseline is a bare PTB bot as PTB builds it (httpx). D-Team talks to the Bot
    API through aiohttp (bot/http.py), so a bare bot on that same transport is measured too:
    the ratio against it is what storage, scoring and rendering cost.
    """
    server = BotApiServer()
    root = await server.start()
    server.add_bot(BARE_TOKEN, username="bare_bot")
    server.add_bot(DTEAM_TOKEN, username="dteam_bench_bot")
    env = dict(os.environ)
    base = await _bare(server, root, env, n, throttle, "httpx")
    same = await _bare(server, root, env, n, throttle, "aiohttp")
    with tempfile.TemporaryDirectory() as tmp:
        env.update(
            DTEAM_BOT_TOKEN=DTEAM_TOKEN,
            DTEAM_API_URL=root,
            DTEAM_DATABASE_URL=database_url or f"sqlite+aiosqlite:///{tmp}/bench.sqlite",
            DTEAM_LISTEN_PORT=str(free_port()),
            DTEAM_LOG_LEVEL="INFO",
            DTEAM_THROTTLE="true" if throttle else "false",
        )
        label = "D-Team (PostgreSQL)" if database_url else "D-Team (SQLite)"
        dteam = await _spawn([sys.executable, "-m", "bot.cli", "run"], env, "polling")
        cpu = _cpu_seconds(dteam)
        ours = await click_through(server, DTEAM_TOKEN, n, label, presses=PRESSES)
        ours.cpu = _cpu_seconds(dteam) - cpu
        await stop_process(dteam)
    await server.stop()
    mode = "throttled to Telegram's 30 msg/s" if throttle else "unthrottled (processing capacity)"
    print(f"--- {mode}")
    for figures in (base, same, ours):
        print(figures.line())
    for baseline in (base, same):
        ratio = ours.per_second / baseline.per_second if baseline.per_second else float("nan")
        target = " (target >= 0.70)" if baseline is base else ""
        print(f"throughput ratio D-Team / {baseline.label} = {ratio:.2f}{target}")


async def main(n: int) -> None:
    """Measures both pacing modes; PostgreSQL too when DTEAM_BENCH_POSTGRES_URL is set."""
    await _pair(n, throttle=True, database_url=None)
    await _pair(n, throttle=False, database_url=None)
    if url := os.environ.get("DTEAM_BENCH_POSTGRES_URL"):
        await _pair(n, throttle=False, database_url=url)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))

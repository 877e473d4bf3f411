"""Throughput and p99 latency of the bot in polling and webhook mode vs. a bare PTB bot.

All bots run as separate processes against one sandbox Bot API in this process, unthrottled
(processing capacity); 200 participants click through concurrently. The webhook is the bot's
own aiohttp server, answering Telegram only after the update is stored.
Run: .venv/bin/python bench/bench_modes.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.bench_journey import BARE_TOKEN, PRESSES, _bare, _spawn  # noqa: E402
from bench.clickthrough import Figures, click_through  # noqa: E402
from sandbox.context import Settings as SandboxSettings  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.support.bots import stop_process  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

POLL_TOKEN = "333333:dteam-polling-bench"
HOOK_TOKEN = "444444:dteam-webhook-bench"
SECRET = "bench-secret_1"


def _env(root: str, token: str, db: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DTEAM_BOT_TOKEN": token,
        "DTEAM_API_URL": root,
        "DTEAM_DATABASE_URL": db,
        "DTEAM_LISTEN_PORT": str(port),
        "DTEAM_LOG_LEVEL": "INFO",
        "DTEAM_THROTTLE": "false",
    }


async def _dteam(server: BotApiServer, n: int, *, webhook: bool, database_url: str) -> Figures:
    port = free_port()
    token = HOOK_TOKEN if webhook else POLL_TOKEN
    env = _env(server.root, token, database_url, port)
    cmd = [sys.executable, "-m", "bot.cli", "run"]
    if webhook:
        env.update(DTEAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", DTEAM_WEBHOOK_SECRET=SECRET)
        cmd.append("--webhook")
    proc = await _spawn(cmd, env, "webhook http" if webhook else "polling http")
    try:
        label = "D-Team webhook" if webhook else "D-Team polling"
        return await _measured(proc.pid, click_through(server, token, n, label, presses=PRESSES))
    finally:
        await stop_process(proc)


async def _measured(pid: int, run: Coroutine[Any, Any, Figures]) -> Figures:
    """Runs the click-through and adds the CPU seconds the bot process spent on it."""
    process = psutil.Process(pid)
    before = sum(process.cpu_times()[:2])
    figures = await run
    figures.cpu = sum(process.cpu_times()[:2]) - before
    return figures


async def main(n: int) -> None:
    """Measures the bare bots, then D-Team polling, then D-Team webhook, on one sandbox."""
    server = BotApiServer(settings=SandboxSettings(webhook_backoff=0.05, webhook_backoff_max=1))
    root = await server.start()
    server.add_bot(BARE_TOKEN, username="bare_bot")
    server.add_bot(POLL_TOKEN, username="dteam_polling_bot")
    server.add_bot(HOOK_TOKEN, username="dteam_webhook_bot")
    env = dict(os.environ)
    # PTB's default transport, and D-Team's.
    bases = [await _bare(server, root, env, n, False, t) for t in ("httpx", "aiohttp")]
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for webhook in (False, True):
            url = os.environ.get("DTEAM_BENCH_POSTGRES_URL") or (
                f"sqlite+aiosqlite:///{tmp}/{'hook' if webhook else 'poll'}.sqlite"
            )
            figures.append(await _dteam(server, n, webhook=webhook, database_url=url))
    await server.stop()
    db = "PostgreSQL" if os.environ.get("DTEAM_BENCH_POSTGRES_URL") else "SQLite"
    print(f"--- {n} concurrent participants, {PRESSES} presses each, unthrottled, {db}")
    for base in bases:
        print(base.line())
    for ours in figures:
        ratios = ", ".join(
            f"{ours.per_second / base.per_second:.2f} x {base.label}" for base in bases
        )
        print(f"{ours.line()}  ({ratios})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))

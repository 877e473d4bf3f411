"""N participants finish within a minute while 50 presenter pages are open: how soon each sees it.

The real bot runs as its own process (`dteam run`, polling, production pacing) against the
stand-in in this process with Telegram's flood limits on. Finished runs are written straight
into the database at an even pace (classified by the real model, marking the live message
dirty, as the questionnaire handler does); the bench, not the bot, pays for the taps. Measured
per finish, from its commit to the first moment a reader sees a finished count that includes
it:
- the presenter page: each of 50 aiohttp clients on the page's event stream (SSE);
- the live Telegram message (the baseline, in the same run): the stand-in's record of the
  bot's edit of the group's message.
CPU seconds of the bot process per finish are measured on fresh bots: with the live message
alone, with one open page, and with the 50 (one watcher per workshop serves them all).
Run: .venv/bin/python bench/bench_presenter.py [N] [SECONDS] [PAGES]
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_journey import _cpu_seconds, _spawn  # noqa: E402
from bench.bench_live import finish_all  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from storage.database import Database  # noqa: E402
from tests.e2e.harness import BOT_USERNAME, TOKEN  # noqa: E402
from tests.e2e.websession import command, make_group, open_session  # noqa: E402
from tests.support.bots import stop_process  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

GROUP, MOD = -9301, 931
_FINISHED = re.compile(r'id="finished">(\d+)<')
_LIVE = re.compile(r"Fertig: (\d+)")
_LINK = re.compile(r"http://127\.0\.0\.1:\d+/screen/\S+")


@dataclass
class Run:
    """What one run measured."""

    label: str
    n: int
    wall: float = 0.0
    cpu: float = 0.0
    page: list[float] = field(default_factory=list)  # seconds, one per finish per page
    live: list[float] = field(default_factory=list)  # seconds, one per finish
    pages_right: int = 0  # pages whose last view counted every finish


async def _page(http: aiohttp.ClientSession, url: str, seen: list[tuple[float, int]]) -> None:
    """Reads the page's event stream; records (arrival, finished count) of each view."""
    async with http.get(url + "/events") as response:
        assert response.status == 200, response.status
        async for raw in response.content:
            if (match := _FINISHED.search(raw.decode(errors="replace"))) is not None:
                seen.append((time.time(), int(match[1])))


def _delays(stamps: list[float], seen: list[tuple[float, int]]) -> list[float]:
    """For each finish i, the time from its commit to the first view counting i+1 or more."""
    out, j = [], 0
    for i, stamp in enumerate(stamps):
        while j < len(seen) and seen[j][1] < i + 1:
            j += 1
        if j < len(seen):
            out.append(seen[j][0] - stamp)
    return out


def _live_seen(server: BotApiServer) -> list[tuple[float, int]]:
    """(time, finished count) of each successful send or edit of the group's live message."""
    out = []
    for call in server.calls:
        if call.chat_id != GROUP or call.status != 200:
            continue
        if call.method not in ("editMessageText", "sendMessage"):
            continue
        text = str(call.params.get("text", ""))
        if text.startswith("📊") and (match := _LIVE.search(text)) is not None:
            out.append((call.timestamp, int(match[1])))
    return sorted(out)


async def _run(n: int, seconds: float, pages: int, label: str) -> Run:
    """One fresh bot and database: open a workshop, open `pages` pages, let n people finish."""
    server = BotApiServer()
    root = await server.start()
    server.add_bot(TOKEN, username=BOT_USERNAME)
    make_group(server, GROUP, MOD)
    figures = Run(label, n)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
        env = dict(os.environ)
        env.update(
            DTEAM_BOT_TOKEN=TOKEN,
            DTEAM_API_URL=root,
            DTEAM_DATABASE_URL=url,
            DTEAM_LISTEN_PORT=str(free_port()),
            DTEAM_LOG_LEVEL="INFO",
        )
        bot = await _spawn([sys.executable, "-m", "bot.cli", "run"], env, "polling")
        db = Database(url)
        try:
            server.add_user(MOD, "Moderatorin")
            server.send_text(MOD, "/start")
            await open_session(server, MOD, GROUP, "Benchmark")
            answer = await command(server, MOD, GROUP, "/beamer", where=MOD)
            link = _LINK.search(answer.text or "")
            assert link, answer.text
            await command(server, MOD, GROUP, "/beamer reveal", where=MOD)
            server.set_limits(enabled=True)
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=pages + 5)
            ) as http:
                seen: list[list[tuple[float, int]]] = [[] for _ in range(pages)]
                readers = [asyncio.create_task(_page(http, link[0], s)) for s in seen]
                await asyncio.sleep(2)  # every page connected and shown
                cpu, began = _cpu_seconds(bot), time.monotonic()
                stamps = await finish_all(
                    db, GROUP, n, seconds, seed=11, first_id=700_000, clock=time.time
                )
                figures.wall = time.monotonic() - began
                await _settle(server, seen, n)
                figures.cpu = _cpu_seconds(bot) - cpu
                for task in readers:
                    task.cancel()
        finally:
            await db.dispose()
            await stop_process(bot)
    await server.stop()
    for page in seen:
        figures.page += _delays(stamps, page)
        figures.pages_right += bool(page) and page[-1][1] == n
    figures.live = _delays(stamps, _live_seen(server))
    return figures


async def _settle(server: BotApiServer, seen: list[list[tuple[float, int]]], n: int) -> None:
    """Waits until every page and the live message show all n finishes (at most 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        live = _live_seen(server)
        if all(s and s[-1][1] == n for s in seen) and live and live[-1][1] == n:
            return
        await asyncio.sleep(0.1)


def _quantiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (
        f"p50 {cuts[49] * 1000:7.0f} ms   p99 {cuts[98] * 1000:7.0f} ms   "
        f"max {max(values) * 1000:7.0f} ms   (n={len(values)})"
    )


async def main(n: int = 500, seconds: float = 60.0, pages: int = 50) -> None:
    """Runs the live message alone, then with `pages` open pages, and prints the figures."""
    alone = await _run(n, seconds, 0, "live message alone")
    one = await _run(n, seconds, 1, "live message + 1 presenter page")
    both = await _run(n, seconds, pages, f"live message + {pages} presenter pages")
    print(f"{n} participants finished in {both.wall:.1f} s (SQLite, Telegram limits on)")
    print("from a finish's commit to a reader seeing it:")
    print(f"  presenter page ({pages} SSE clients): {_quantiles(both.page)}")
    print(f"  presenter page (1 SSE client):        {_quantiles(one.page)}")
    print(f"  live Telegram message (same run):    {_quantiles(both.live)}")
    print(f"  pages showing all {n} at the end:    {both.pages_right} of {pages}")
    print("CPU seconds of the bot process per finish:")
    for run in (alone, one, both):
        print(f"  {run.label:38} {run.cpu / n * 1000:6.2f} ms  ({run.cpu:.2f} s in all)")
    extra = (both.cpu - alone.cpu) / n
    print(f"  the {pages} pages' share:                  {extra * 1000:6.2f} ms per finish")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            int(args[0]) if args else 500,
            float(args[1]) if len(args) > 1 else 60.0,
            int(args[2]) if len(args) > 2 else 50,
        )
    )

"""Resident memory of the bot with 10,000 finished participants in its database vs. a bare bot.

The database is filled with bulk inserts (results classified by the real model), then the bot
starts as a process against the sandbox; a few participants join the 10,000-person session,
the moderator asks for /summary and /export, and the bot's RSS (now and peak) is read.
Run: .venv/bin/python bench/bench_memory.py [N]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.bench_journey import PRESSES, _spawn  # noqa: E402
from bench.clickthrough import click_through  # noqa: E402
from bot.demo_crowd import Walker, answer_sheets  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from storage.models import Answer, Participant, Result, Run, Workshop  # noqa: E402
from storage.types import utcnow  # noqa: E402
from tests.support.bots import stop_process  # noqa: E402
from tests.support.database import opened  # noqa: E402
from tests.support.groups import make_group  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from typology.questionnaire import load_questionnaire  # noqa: E402
from typology.scoring import load_model  # noqa: E402

TOKEN = "555555:dteam-memory-bench"
BARE_TOKEN = "222222:bare-bench-token"
GROUP, MODERATOR, CODE = -100_5555, 5555, "bench10k"
TARGET_MB = 250


async def fill(url: str, n: int) -> None:
    """Inserts one open workshop with n finished runs (answers and results) in bulk."""
    q, model = load_questionnaire(), load_model()
    sheets = answer_sheets(q, n, seed=11)
    now = utcnow()
    async with opened(url, migrated=True) as db:
        people: list[dict[str, Any]] = []
        runs, answers, results = [], [], []
        for i, sheet in enumerate(sheets, start=1):
            people.append(
                {
                    "id": i,
                    "telegram_id": 10**9 + i,
                    "pseudonym": f"p-{i:013d}",
                    "language": "de",
                    "consent_at": now,
                    "created_at": now,
                }
            )
            runs.append(
                {
                    "id": i,
                    "participant_id": i,
                    "workshop_id": 1,
                    "questionnaire_version": q.version,
                    "status": "finished",
                    "started_at": now,
                    "updated_at": now,
                    "finished_at": now,
                }
            )
            answers += [
                {"run_id": i, "item_id": k, "option_id": v, "answered_at": now}
                for k, v in sheet.items()
            ]
            res = model.classify(q, {k: v for k, v in sheet.items() if v != "x"})
            results.append(
                {
                    "run_id": i,
                    "main_type": res.main_type.value,
                    "second_type": res.second_type.value,
                    "mixed": res.mixed,
                    "affinities": {k.value: v for k, v in res.affinities.items()},
                    "deciding": res.deciding,
                    "profile": res.profile,
                    "model_version": res.model_version,
                    "created_at": now,
                }
            )
        async with db.write() as s:
            await s.execute(
                insert(Workshop),
                [
                    {
                        "id": 1,
                        "code": CODE,
                        "chat_id": GROUP,
                        "title": "10.000",
                        "created_by": MODERATOR,
                        "created_at": now,
                        "settings": {},
                    }
                ],
            )
            for model_cls, rows in (
                (Participant, people),
                (Run, runs),
                (Answer, answers),
                (Result, results),
            ):
                for start in range(0, len(rows), 5000):
                    await s.execute(insert(model_cls), rows[start : start + 5000])


def _rss(pid: int) -> tuple[float, float]:
    """Returns (current, peak) resident memory in MB."""
    process = psutil.Process(pid)
    peak = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    return process.memory_info().rss / 2**20, peak


async def _command(server: BotApiServer, text: str, where: int, predicate: Any) -> None:
    mark = server.mark()
    server.send_text(MODERATOR, text, chat_id=GROUP, token=TOKEN)
    await server.wait_for(predicate, 120, chat_id=where, since=mark, token=TOKEN)


async def _dteam(server: BotApiServer, url: str) -> dict[str, tuple[float, float]]:
    env = {
        **os.environ,
        "DTEAM_BOT_TOKEN": TOKEN,
        "DTEAM_API_URL": server.root,
        "DTEAM_DATABASE_URL": url,
        "DTEAM_LISTEN_PORT": str(free_port()),
        "DTEAM_THROTTLE": "false",
    }
    proc = await _spawn([sys.executable, "-m", "bot.cli", "run"], env, "polling http")
    try:
        stages = {"started": _rss(proc.pid)}
        sheets = answer_sheets(load_questionnaire(), 5, seed=99)
        walkers = [Walker(server, 7_000 + i, CODE, s, token=TOKEN) for i, s in enumerate(sheets)]
        await asyncio.gather(*(w.walk() for w in walkers))
        stages["5 participants"] = _rss(proc.pid)
        server.send_text(MODERATOR, "/start", token=TOKEN)  # so /export may reach her
        await _command(server, "/summary", GROUP, lambda m: m.photo is not None)
        await asyncio.sleep(1)
        stages["/summary"] = _rss(proc.pid)
        await _command(server, "/export", MODERATOR, lambda m: m.document is not None)
        await asyncio.sleep(1)
        stages["/export"] = _rss(proc.pid)
        return stages
    finally:
        await stop_process(proc)


async def main(n: int) -> None:
    """Fills the database, measures the bare bot and D-Team, prints both."""
    server = BotApiServer()
    root = await server.start()
    server.add_bot(BARE_TOKEN, username="bare_bot")
    server.add_bot(TOKEN, username="dteam_memory_bot")
    make_group(
        server,
        GROUP,
        MODERATOR,
        bot_id=int(TOKEN.split(":")[0]),
        title="Großveranstaltung",
        moderator_name="Moderatorin",
        can_pin_messages=True,
    )
    bare = await _spawn(
        [sys.executable, "bench/bare_bot.py", root, BARE_TOKEN, str(PRESSES - 1), "0"],
        dict(os.environ),
        "ready",
    )
    await click_through(server, BARE_TOKEN, 5, "bare", presses=PRESSES)
    bare_rss = _rss(bare.pid)
    await stop_process(bare)
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DTEAM_BENCH_POSTGRES_URL") or f"sqlite+aiosqlite:///{tmp}/m.sqlite"
        started = time.perf_counter()
        await fill(url, n)
        filled = time.perf_counter() - started
        ours = await _dteam(server, url)
    await server.stop()
    print(f"--- resident memory, {n} finished participants in the database ({filled:.0f} s fill)")
    print(f"bare PTB bot            RSS {bare_rss[0]:6.1f} MB  peak {bare_rss[1]:6.1f} MB")
    for stage, (rss, peak) in ours.items():
        verdict = "ok" if peak < TARGET_MB else "OVER"
        print(
            f"D-Team after {stage:<15} RSS {rss:6.1f} MB  peak {peak:6.1f} MB"
            f"  (target < {TARGET_MB} MB: {verdict})"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))

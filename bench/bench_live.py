"""500 participants finish within one minute: live-message edits, 429s, correctness.

The real bot polls a sandbox Bot API with Telegram's flood limits switched on. Finished runs are
written straight into the database (classified by the real model) at an even pace, as the
questionnaire handler would, each marking the workshop's live message dirty. Measured: group
edits, 429s, how soon after the last finish the live message is right, and whether the live
message and /summary match the stored results as disclosed: the first floor(n/k)*k finishers
by finish time (k = the privacy threshold, see typology.group.disclosed). Baseline in the same
run: the naive design (one edit per finish) replayed against the same limiter.
Run: .venv/bin/python bench/bench_live.py [N] [SECONDS]
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from sqlalchemy import select
from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.errors import ApiError  # noqa: E402
from sandbox.limits import RateLimiter  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import Result, Run  # noqa: E402
from storage.participants import get_or_create_participant  # noqa: E402
from storage.runs import finish_run, record_answer, start_run  # noqa: E402
from storage.types import pk  # noqa: E402
from storage.workshops import current_workshop, mark_live_dirty  # noqa: E402
from tests.e2e.harness import BOT_USERNAME, TOKEN, BotProcess, make_settings  # noqa: E402
from tests.e2e.websession import make_group, open_session, summary_counts  # noqa: E402
from tests.support.database import opened  # noqa: E402
from typology.group import disclosed_counts  # noqa: E402
from typology.questionnaire import load_questionnaire  # noqa: E402
from typology.scoring import load_model  # noqa: E402

GROUP, MOD = -9001, 999


async def finish_all(
    db: Database,
    chat_id: int,
    n: int,
    seconds: float,
    *,
    seed: int = 7,
    first_id: int = 500_000,
    clock: Callable[[], float] = time.monotonic,
) -> list[float]:
    """Writes n finished runs in the chat's workshop, evenly over `seconds`.

    Returns clock() after each commit (bench_presenter compares with the pages' wall clock).
    """
    q, model, rng = load_questionnaire(), load_model(), random.Random(seed)
    async with db.read() as s:
        workshop = await current_workshop(s, chat_id=chat_id)
    assert workshop is not None
    workshop_id = pk(workshop)
    start, stamps = time.monotonic(), []
    for i in range(n):
        await asyncio.sleep(max(0.0, start + i * seconds / n - time.monotonic()))
        answers = {item.id: rng.choice(item.options).id for item in q.items}
        result = model.classify(q, answers)
        async with db.write() as s:
            person = await get_or_create_participant(
                s, telegram_id=first_id + i, first_name=f"B{i}", language="de"
            )
            run = await start_run(
                s,
                participant_id=pk(person),
                workshop_id=workshop_id,
                questionnaire_version=q.version,
                language="de",
                first_item=q.items[0].id,
            )
            for item_id, option_id in answers.items():
                await record_answer(s, run_id=pk(run), item_id=item_id, option_id=option_id)
            await finish_run(s, run=run, result=result)
            await mark_live_dirty(s, workshop_id=workshop_id)
        stamps.append(clock())
    return stamps


def _naive_429s(stamps: list[float]) -> int:
    """Replays one edit per finish, at the finish times, against the sandbox's limiter."""
    limiter, rejected = RateLimiter(), 0
    limiter.configure(enabled=True)
    for stamp in stamps:
        with mock.patch("sandbox.limits.time.monotonic", return_value=stamp):
            try:
                limiter.check(GROUP, True)
            except ApiError:
                rejected += 1
    return rejected


def _same(shown: dict[str, int], expected: dict[str, int]) -> bool:
    """Compares per-type counts, a type shown with 0 being the same as a type not listed."""
    return {t: c for t, c in shown.items() if c} == expected


async def main(n: int = 500, seconds: float = 60.0) -> None:
    """Runs the benchmark and prints its figures."""
    sandbox = BotApiServer()
    await sandbox.start()
    sandbox.add_bot(TOKEN, username=BOT_USERNAME)
    make_group(sandbox, GROUP, MOD)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.sqlite"
        bot = BotProcess(sandbox, make_settings(sandbox.root, url, live_interval=1.0))
        await bot.start()
        try:
            async with opened(url) as db:
                sandbox.set_limits(enabled=True)
                await open_session(sandbox, MOD, GROUP, "Benchmark")
                began = time.monotonic()
                stamps = await finish_all(db, GROUP, n, seconds)
                last = stamps[-1]
                live = await sandbox.wait_for(
                    lambda m: f"Fertig: {n}" in (m.text or ""), 90, chat_id=GROUP
                )
                lag = time.monotonic() - last
                mark = sandbox.mark()
                sandbox.send_text(MOD, "/summary", chat_id=GROUP)
                post = await sandbox.wait_for(
                    lambda m: "Das D-Team" in (m.text or ""), 30, chat_id=GROUP, since=mark
                )
                async with db.read() as s:
                    in_order = (
                        await s.execute(
                            select(col(Result.main_type))
                            .join(Run, col(Run.id) == col(Result.run_id))
                            .order_by(col(Run.finished_at), col(Run.id))
                        )
                    ).scalars()
                    every = list(in_order)
                k = bot.settings.privacy_threshold
                stored = Counter(every)
                shown = {t.value: c for t, c in disclosed_counts(every, k).items() if c}
        finally:
            await bot.stop()
    edits = [
        c for c in sandbox.calls_to("editMessageText") if c.chat_id == GROUP and c.status == 200
    ]
    group_429 = [c for c in sandbox.calls if c.chat_id == GROUP and c.status == 429]
    live_counts = summary_counts(live.text or "")
    post_counts = summary_counts(post.text or "")
    naive = _naive_429s(stamps)
    print(f"participants finished:        {n} in {last - began:.1f} s")
    print(f"live edits in the group:      {len(edits)}  (naive design: {n} edits)")
    print(f"429 in the group:             {len(group_429)}  (naive design: {naive} of {n})")
    print(f"429 overall:                  {sandbox.stats()['status_429']}")
    print(f"live message right after:     {lag:.1f} s after the last finish")
    counted = sum(shown.values())
    print(f"stored results:               {len(every)}, disclosed (k={k}): first {counted}")
    print(f"live counts == disclosed:     {_same(live_counts, shown)}  {dict(live_counts)}")
    print(f"/summary counts == disclosed: {_same(post_counts, shown)}  {dict(post_counts)}")
    print(f"all stored (not shown):       {dict(stored)}")
    joined = re.search(r"Beigetreten: (\d+) · Fertig: (\d+)", live.text or "")
    print(
        f"live numbers:                 joined {joined[1]}, finished {joined[2]}" if joined else ""
    )
    await sandbox.stop()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 500, float(args[1]) if len(args) > 1 else 60.0))

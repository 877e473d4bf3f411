"""Benchmark: a reminder to N participants against the sandbox with Telegram's limits on.

Prints the time the bot's paced broadcast takes next to the limit itself (30 messages/s, so
N/30 s at best) and, as a baseline measured in the same run, the same messages sent all at once
through the same Bot (its rate limiter only, no broadcast pacing), with the 429s each drew.

Run: .venv/bin/python bench/bench_reminders.py [--n 1000] [--no-burst] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bot.scheduler
from bot.runner import running_app
from bot.settings import load_settings
from handlers.core.context import BROADCAST_RATE, SERVICES_KEY, DTeamContext, Services
from handlers.timeline.plan import Config, plan
from handlers.timeline.timed import sweep
from sandbox.server import BotApiServer
from storage.participants import get_or_create_participant, set_consent
from storage.runs import start_run
from storage.schedule import replace_plan, set_timeline
from storage.workshops import create_workshop
from tests.support.database import writing

TOKEN = "123456:BENCH-token-for-the-sandbox"
GROUP, MODERATOR, FIRST_USER = -100900, 9000, 100_000
TELEGRAM_LIMIT = 30.0  # messages per second overall
START = datetime(2030, 1, 12, 16, 0, tzinfo=UTC)


async def prepare(sandbox: BotApiServer, url: str, n: int) -> None:
    """Creates N users who started the bot and joined one workshop with a timeline."""
    sandbox.add_user(MODERATOR, "Mo")
    sandbox.add_group(GROUP, "Bench")
    sandbox.set_member(GROUP, int(TOKEN.split(":")[0]), "member")
    for uid in range(FIRST_USER, FIRST_USER + n):
        sandbox.add_user(uid, f"P{uid}")
        sandbox.world.private_chat(sandbox.world.user(uid))
        sandbox.bot_state().started.add(uid)
    async with writing(url, migrated=True) as s:
        workshop = await create_workshop(s, chat_id=GROUP, title="Bench", created_by=MODERATOR)
        assert workshop.id is not None
        end = START + timedelta(minutes=90)
        await set_timeline(s, workshop=workshop, starts_at=START, ends_at=end, settings={})
        items = [(p.kind.value, p.due_at) for p in plan(START, end, Config())]
        await replace_plan(s, workshop_id=workshop.id, items=items)
        for uid in range(FIRST_USER, FIRST_USER + n):
            person = await get_or_create_participant(
                s, telegram_id=uid, first_name=None, language="de"
            )
            await set_consent(s, participant=person)
            await start_run(
                s,
                participant_id=person.id,  # type: ignore[arg-type]
                workshop_id=workshop.id,
                questionnaire_version="1",
                language="de",
                first_item="g01",
            )


async def main(n: int, burst: bool, url: str | None) -> None:
    """Runs the paced reminder, then the unpaced baseline, and prints both."""
    logging.basicConfig(level=logging.WARNING)
    bot.scheduler.SWEEP_SECONDS = 3600.0  # only the sweep measured here runs the reminder
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite'}"
        async with BotApiServer() as sandbox:
            sandbox.add_bot(TOKEN, username="dteam_bench_bot")
            await prepare(sandbox, url, n)
            settings = load_settings(
                bot_token=TOKEN, api_url=sandbox.root, database_url=url, listen_port=0
            )
            async with running_app(settings) as app:
                services: Services = app.bot_data[SERVICES_KEY]
                await asyncio.sleep(1.0)  # let the start-up sweep (nothing due yet) pass
                due = START - timedelta(days=1)
                services.clock = lambda: due
                sandbox.set_limits(True)
                before = sandbox.stats()
                began = time.perf_counter()
                await sweep(DTeamContext(app))
                paced = time.perf_counter() - began
                after = sandbox.stats()
                sent = after.get("method_sendMessage", 0) - before.get("method_sendMessage", 0)
                paced_429 = after["status_429"] - before["status_429"]
                burst_time = burst_429 = None
                if burst:
                    await asyncio.sleep(2.0)  # let the sliding windows empty
                    before = sandbox.stats()
                    began = time.perf_counter()
                    await asyncio.gather(
                        *(
                            app.bot.send_message(uid, "burst")
                            for uid in range(FIRST_USER, FIRST_USER + n)
                        )
                    )
                    burst_time = time.perf_counter() - began
                    burst_429 = sandbox.stats()["status_429"] - before["status_429"]
    print(f"reminder to {n} participants, sandbox limits on (30/s overall, 1/s per chat)")
    print(
        f"  Telegram's limit itself:   {n / TELEGRAM_LIMIT:6.1f} s  ({TELEGRAM_LIMIT:.0f} msg/s)"
    )
    print(f"  paced at {BROADCAST_RATE:.0f}/s, ideal:     {n / BROADCAST_RATE:6.1f} s")
    print(
        f"  bot's timed reminder:      {paced:6.1f} s  ({sent / paced:5.1f} msg/s, "
        f"{sent} sent, {paced_429} x 429)"
    )
    if burst_time is not None:
        print(
            f"  baseline, all at once:     {burst_time:6.1f} s  ({n / burst_time:5.1f} msg/s, "
            f"{burst_429} x 429; the bot's rate limiter only)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--no-burst", action="store_true", help="skip the unpaced baseline")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.n, not args.no_burst, args.database_url))

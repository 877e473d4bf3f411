"""The long walk: many seeded walks through the real bot, each on a fresh stand-in and database.

    scripts/walk [--walks N] [--steps S] [--people P] [--seed FIRST] [--database-url URL]

Prints, at the end, how many routes the walks covered and every seed whose invariants broke
(rerun one with `--walks 1 --seed <seed>`). Exit status 1 if any walk failed.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from pathlib import Path

from sandbox.server import BotApiServer
from tests.e2e.harness import BOT_USERNAME, TOKEN, BotProcess, make_settings
from tests.e2e.walker import Coverage, Walker, WalkFailure


async def one_walk(seed: int, steps: int, people: int, database_url: str) -> Coverage:
    """Runs one walk on a fresh stand-in; raises WalkFailure if an invariant broke."""
    sandbox = BotApiServer()
    await sandbox.start()
    sandbox.add_bot(TOKEN, username=BOT_USERNAME)
    settings = make_settings(sandbox.root, database_url, privacy_threshold=1)
    bot = BotProcess(sandbox, settings)
    await bot.start()

    async def restart() -> BotProcess:
        fresh = BotProcess(sandbox, settings)
        await fresh.start()
        return fresh

    walker = Walker(sandbox, bot, seed=seed, people=people, restart=restart)  # type: ignore[arg-type]
    try:
        await walker.walk(steps)
        await walker.check()
    finally:
        await walker.bot.stop()
        await sandbox.stop()
    return walker.coverage


def report(
    total: Coverage, walks: int, steps: int, failed: list[tuple[int, str]], secs: float
) -> None:
    out = sys.stdout
    out.write(f"\nwalks: {walks}, steps each: {steps}, time: {secs:.0f} s\n")
    out.write(f"results shown: {total.results}, bot restarts: {total.restarts}\n")
    out.write(f"distinct routes (step kinds between results): {len(total.routes)}\n")
    out.write(f"distinct transitions (kind -> kind): {len(total.transitions)}\n")
    out.write("steps by kind:\n")
    for kind, n in sorted(total.actions.items(), key=lambda kv: -kv[1]):
        out.write(f"  {n:8d}  {kind}\n")
    out.write(f"failed walks: {len(failed)}\n")
    for seed, why in failed:
        out.write(f"  seed {seed}: {why}\n")


async def main_async(args: argparse.Namespace) -> int:
    total, failed = Coverage(), []
    started = time.monotonic()
    done = 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # SIGINT/SIGTERM end the run after the current walk and still print the figures so far,
    # so a long walk can be cut short without losing what it covered.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.walks):
            if stop.is_set():
                sys.stdout.write("stopped early by a signal\n")
                break
            seed = args.seed + i
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / f'walk{seed}.db'}"
            try:
                total.merge(await one_walk(seed, args.steps, args.people, url))
            except WalkFailure as exc:
                failed.append((seed, str(exc)))
            except Exception as exc:
                failed.append((seed, f"{type(exc).__name__}: {exc}"))
            done += 1
            if (i + 1) % 10 == 0:
                sys.stdout.write(
                    f"{i + 1}/{args.walks} walks, {len(total.routes)} routes, "
                    f"{len(failed)} failed\n"
                )
                sys.stdout.flush()
    report(total, done, args.steps, failed, time.monotonic() - started)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--people", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument(
        "--database-url", default="", help="one database for every walk (default: fresh SQLite)"
    )
    raise SystemExit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()

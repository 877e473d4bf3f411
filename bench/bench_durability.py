"""Benchmark: what synchronous=FULL costs per commit on SQLite, against NORMAL in the same run.

Each commit is the transaction every handler makes at least: one processed_update row, written
through Database.write_sync (the tap path's writer thread), one after another as the single
SQLite writer does them. Prints commits per second for both settings and their ratio.

Run: .venv/bin/python bench/bench_durability.py [--commits 2000] [--rounds 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session

import storage.database
from storage.models import ProcessedUpdate
from tests.support.database import opened


async def commits_per_second(path: Path, synchronous: str, commits: int) -> float:
    """Returns commits/s for a fresh database file with the given PRAGMA synchronous."""
    storage.database.SQLITE_SYNCHRONOUS = synchronous  # read when a connection is opened
    async with opened(f"sqlite+aiosqlite:///{path}", migrated=True) as db:
        started = time.perf_counter()
        for i in range(commits):

            def write(session: Session, update_id: int = i) -> None:
                session.add(ProcessedUpdate(update_id=update_id))

            await db.write_sync(write)
        return commits / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a real disk)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        figures: dict[str, list[float]] = {"NORMAL": [], "FULL": []}
        for n in range(args.rounds):  # interleaved, so that drift hits both alike
            for mode in figures:
                path = Path(tmp) / f"{mode}-{n}.sqlite"
                figures[mode].append(await commits_per_second(path, mode, args.commits))
        print(f"SQLite commits/s, {args.commits} commits x {args.rounds} rounds in {tmp}")
        for mode, values in figures.items():
            rounds = ", ".join(f"{v:.0f}" for v in values)
            print(f"  synchronous={mode:<6} median {statistics.median(values):6.0f}/s  ({rounds})")
        ratio = statistics.median(figures["FULL"]) / statistics.median(figures["NORMAL"])
        print(f"  FULL / NORMAL = {ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

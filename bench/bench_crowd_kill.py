"""200 participants pressing random buttons, with and without a SIGKILL of the bot half-way.

The crowd of `tests/faults/crowd.py` against `python -m bot.cli run` (polling, then webhook)
on SQLite: every participant presses any visible button until shown a result. Printed per run:
the time until the whole crowd saw a result, the types announced to participants, /summary's
count and the stored results (they must be equal), and the 4xx the stand-in gave. Baseline in
the same run: the same crowd (same seed) without the kill.

Run: .venv/bin/python bench/bench_crowd_kill.py [PEOPLE] [polling|webhook|both]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.crowd import CrowdReport, crowd_run  # noqa: E402


async def one(tmp: Path, people: int, *, webhook: bool, kill: bool) -> CrowdReport:
    name = f"{'webhook' if webhook else 'polling'}-{'kill' if kill else 'calm'}"
    url = f"sqlite+aiosqlite:///{tmp / f'{name}.db'}"
    return await crowd_run(url, tmp / f"{name}.log", people=people, webhook=webhook, kill=kill)


async def main(people: int, modes: list[bool]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for webhook in modes:
            calm = await one(Path(tmp), people, webhook=webhook, kill=False)
            print(calm.line(), flush=True)
            killed = await one(Path(tmp), people, webhook=webhook, kill=True)
            print(killed.line(), flush=True)
            ratio = killed.elapsed / calm.elapsed if calm.elapsed else float("nan")
            print(f"  time with the kill / without: {ratio:.2f}")
            for report in (calm, killed):
                label = "kill" if report.kills else "calm"
                print(f"  {label}: announced {dict(sorted(report.announced.items()))}")
                print(f"  {label}: summary   {dict(sorted(report.summary.items()))}")
                print(f"  {label}: stored    {dict(sorted(report.stored.items()))}")
                for what, n in sorted(report.refused.items()):
                    print(f"  {label}: 4xx {n:>5} x {what}")
                for user_id, told, stored, chat in report.differing[:3]:
                    print(f"  {label}: {user_id} told {told}, stored {stored}; chat: {chat}")
                if report.answers_problem:
                    print(f"  {label}: stored answers differ: {report.answers_problem}")


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = args[1] if len(args) > 1 else "both"
    chosen = {"polling": [False], "webhook": [True], "both": [False, True]}[mode]
    asyncio.run(main(int(args[0]) if args else 200, chosen))

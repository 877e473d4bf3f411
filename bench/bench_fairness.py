"""One user floods 100 updates/s: other users' reply latency against an idle bot's.

The real bot (`dteam run`, polling, then webhook, in its own process) runs against the
stand-in with Telegram's limits on and production pacing. Fifty other users each send /help
every 2.5 s (their own chat's pace). Three conditions alternate in 10-s blocks, round after
round, so that load from elsewhere on the machine falls on each alike: an idle bot; one user
sending 100 texts a second to another bot (the flood's cost to the stand-in and the machine,
which the bot never sees); the same flood sent to this bot (last: the flooder's kept updates
drain paced for a while after it). The flooder is a process of its own, driving the stand-in's
control API; so is the stand-in, through which the probes send /help and wait for the reply
(two round trips to its control API, alike in every condition). Printed per condition: n,
p50/p95/p99/max and the bot's CPU share; the p99 ratios; what became of the flood.
Run: .venv/bin/python bench/bench_fairness.py [ROUNDS=5] [OTHERS=50] [polling,webhook]
(DTEAM_BENCH_PROFILE=<file> runs the bot under pyinstrument, if installed).

Last run (pinned: the bot on CPU 0, everything else on CPU 1; 3 rounds; n = 600 per condition;
load average 0.2-0.5; ms):
    polling  idle    p50  7.6  p95  9.8  p99 11.5  bot CPU  9%
    polling  control p50  8.5  p95 10.9  p99 13.2  bot CPU  9%
    polling  flood   p50  7.9  p95 10.8  p99 14.6  bot CPU 20%  (1.27x idle, 1.11x control)
    webhook  idle    p50  6.6  p95  8.3  p99  9.9  bot CPU  7%
    webhook  control p50  7.1  p95  9.7  p99 11.4  bot CPU  7%
    webhook  flood   p50  7.5  p95 10.4  p99 12.1  bot CPU  8%   (1.23x idle, 1.07x control)
Both meet the 1.5x target. See docs/security.md, "Fair use" (the tail was the bot's overall
pacing bucket of 1 per 40 ms, now 3 per 120 ms for replies).
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_journey import _cpu_seconds, _spawn  # noqa: E402
from sandbox.server import BotApiServer  # noqa: E402
from tests.e2e.harness import BOT_USERNAME, TOKEN  # noqa: E402
from tests.support.bots import stop_process  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

FLOODER = 8000
RATE = 100.0  # flood updates per second
SECRET = "bench-secret_1"
OTHER_TOKEN = "999999:a-bot-nobody-runs"  # control: the stand-in floods, the bot sees nothing
GAP = 2.5  # seconds between one user's probes: their own chat's pace
BLOCK = 10.0  # seconds per block of each condition
DRAIN = 10.0  # after the flood: the flooder's queue of 8 drains (paced ~1/2.5 s)
CONDITIONS = ("idle", "control", "flood")


class StandIn:
    """The stand-in in a process of its own, driven through its control API (as a client is).

    Its CPU (taking in the flood, answering the bot's getUpdates) is then not this process's,
    which only times the probes; the probes' two round trips to it are the same in every
    condition.
    """

    def __init__(self, proc: asyncio.subprocess.Process, root: str) -> None:
        self.proc, self.root = proc, root
        self.http = aiohttp.ClientSession(trust_env=False)

    @classmethod
    async def start(cls, users: list[int]) -> StandIn:
        """Starts the stand-in process with both bots, the users and Telegram's limits."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--stand-in",
            ",".join(str(u) for u in users),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        root = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        return cls(proc, root)

    async def _call(self, method: str, name: str, **kwargs: object) -> object:
        url = f"{self.root}/control/{name}"
        if method == "GET":
            request = self.http.get(url, params={k: str(v) for k, v in kwargs.items()})
        else:
            request = self.http.post(url, json=kwargs)
        async with request as resp:
            body = await resp.json()
        if not body.get("ok"):
            raise RuntimeError(f"{name}: {body}")
        return body["result"]

    async def probe(self, user: int) -> float:
        """Sends /help as user; returns the seconds until the bot's reply reached the stand-in."""
        mark = await self._call("GET", "mark")
        began = time.monotonic()
        await self._call("POST", "send_text", user_id=user, text="/help")
        await self._call("POST", "wait", chat_id=user, since=mark, timeout=120)
        return time.monotonic() - began

    async def answered(self, user: int) -> int:
        """The bot's messages in user's chat."""
        found = await self._call("GET", "messages", chat_id=user)
        assert isinstance(found, list)
        return len(found)

    async def stop(self) -> None:
        """Ends the stand-in process."""
        await self.http.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await asyncio.wait_for(self.proc.wait(), 30)


async def _stand_in_main(users: str) -> None:
    """The stand-in process: serves until stdin closes."""
    sandbox = BotApiServer()
    await sandbox.start()
    sandbox.add_bot(TOKEN, username=BOT_USERNAME)
    sandbox.add_bot(OTHER_TOKEN, username="nobody_polls_bot")
    sandbox.settings.webhook_backoff = 0.2
    sandbox.set_limits(enabled=True)
    for user in users.split(","):
        sandbox.add_user(int(user), f"U{user}")
    print(sandbox.root, flush=True)
    loop = asyncio.get_running_loop()
    # It keeps every message: what it holds at the start is never scanned by the collector.
    gc.freeze()
    while await loop.run_in_executor(None, sys.stdin.readline):
        pass
    await sandbox.stop()


async def _probes(sandbox: StandIn, users: list[int], seconds: float) -> list[float]:
    """Each user probes every GAP seconds, staggered; returns every latency."""

    async def one(n: int, user: int) -> list[float]:
        await asyncio.sleep(n * GAP / len(users))
        start, out = time.monotonic(), []
        while time.monotonic() - start < seconds:
            began = time.monotonic()
            out.append(await sandbox.probe(user))
            await asyncio.sleep(max(0.0, GAP - (time.monotonic() - began)))
        return out

    results = await asyncio.gather(*(one(n, u) for n, u in enumerate(users)))
    return [x for r in results for x in r]


class Flooder:
    """The flooding user, in a process of its own: its CPU cost is not the measuring loop's.

    It drives the stand-in through its HTTP control API (POST /control/send_text), as a
    Telegram client would reach Telegram: what is left in this process is the stand-in taking
    the updates in, which the control condition (the flood to another bot) measures.
    """

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, root: str) -> Flooder:
        """Starts the flooder process; it waits for orders on stdin."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--flooder",
            root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        flooder = cls(proc)
        await flooder._line()  # "ready"
        return flooder

    async def _line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode().strip()

    async def flood(self, token: str, seconds: float) -> int:
        """Floods the bot with this token for some seconds; returns the updates sent."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{token} {seconds}\n".encode())
        await self.proc.stdin.drain()
        return int(await self._line())

    async def stop(self) -> None:
        """Ends the flooder process."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        await asyncio.wait_for(self.proc.wait(), 30)


async def _flooder_main(root: str) -> None:
    """The flooder process: per order "TOKEN SECONDS" on stdin, floods and prints the count."""
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(trust_env=False) as http:
        print("ready", flush=True)
        sent = 0
        while order := await loop.run_in_executor(None, sys.stdin.readline):
            token, seconds = order.split()
            start, count = time.monotonic(), 0
            while time.monotonic() - start < float(seconds):
                body = {"user_id": FLOODER, "text": f"Weitergeleitet {sent}", "token": token}
                async with http.post(f"{root}/control/send_text", json=body) as resp:
                    resp.raise_for_status()
                sent, count = sent + 1, count + 1
                await asyncio.sleep(max(0.0, start + count / RATE - time.monotonic()))
            print(count, flush=True)


async def _flooded(
    sandbox: StandIn, flooder: Flooder, users: list[int], token: str
) -> tuple[list[float], int]:
    """Probes while the flooder floods the bot with this token; returns latencies, updates sent."""
    flood = asyncio.create_task(flooder.flood(token, BLOCK + 1.0 + GAP))
    await asyncio.sleep(1.0)  # the flood is under way
    latencies = await _probes(sandbox, users, BLOCK)
    return latencies, await flood


async def _metric(port: int, name: str) -> int:
    async with (
        aiohttp.ClientSession(trust_env=False) as http,
        http.get(f"http://127.0.0.1:{port}/metrics") as resp,
    ):
        text = await resp.text()
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(name))


class GcPauses:
    """The garbage collector's pauses in this process (stand-in and probes), longest first."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0

    def __call__(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._began)

    def summary(self) -> str:
        """Says how many collections there were (between rounds only) and the longest."""
        longest = max(self.pauses, default=0.0) * 1000
        return f"{len(self.pauses)} collections, longest {longest:.1f} ms"


@contextmanager
def _usage(proc: asyncio.subprocess.Process, into: list[float]) -> Iterator[None]:
    """Adds the process's CPU seconds and the wall seconds spent in the block to into."""
    cpu, wall = _cpu_seconds(proc), time.monotonic()
    yield
    into[0] += _cpu_seconds(proc) - cpu
    into[1] += time.monotonic() - wall


def _pct(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values (nearest rank)."""
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _figures(values: list[float]) -> str:
    ordered = sorted(values)
    p50, p95, p99 = (_pct(ordered, q) * 1000 for q in (0.50, 0.95, 0.99))
    return (
        f"n={len(values):5d}  p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:7.1f}  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def _p99(values: list[float]) -> float:
    return _pct(sorted(values), 0.99)


async def _mode(webhook: bool, rounds: int, others: int) -> None:
    users = [8100 + n for n in range(others)]
    sandbox = await StandIn.start([FLOODER, *users])
    pauses = GcPauses()
    gc.callbacks.append(pauses)
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
        if profile := os.environ.get("DTEAM_BENCH_PROFILE"):  # a pyinstrument text report
            cmd[1:2] = ["-m", "pyinstrument", "-r", "text", "-o", profile, "-m"]
        if webhook:
            env.update(
                DTEAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", DTEAM_WEBHOOK_SECRET=SECRET
            )
            cmd.append("--webhook")
        if PINNED:  # the bot and its threads on a core of their own (see _pin)
            assert TASKSET is not None
            cmd = [TASKSET, "-c", str(BOT_CPU), *cmd]
        bot = await _spawn(cmd, env, "webhook http" if webhook else "polling http")
        flooder = await Flooder.start(sandbox.root)
        try:
            await _probes(sandbox, users, GAP)  # warm-up: every chat has been answered once
            # Blocks interleaved, round after round: a burst of load from elsewhere on the
            # machine then falls on every condition alike instead of on one of them.
            latencies: dict[str, list[float]] = {c: [] for c in CONDITIONS}
            load = {c: [0.0, 0.0] for c in CONDITIONS}  # the bot's CPU and wall seconds
            sent = 0
            for _ in range(rounds):
                # This process (the probes) collects between rounds only; the stand-in's and the
                # bot's collectors are left alone.
                gc.collect()
                gc.disable()
                with _usage(bot, load["idle"]):
                    latencies["idle"] += await _probes(sandbox, users, BLOCK)
                # The control before the flood: the flooder's kept updates drain (paced) for a
                # while after the flood, which would count against the control.
                with _usage(bot, load["control"]):
                    control, _ = await _flooded(sandbox, flooder, users, OTHER_TOKEN)
                latencies["control"] += control
                with _usage(bot, load["flood"]):
                    flooded, n = await _flooded(sandbox, flooder, users, TOKEN)
                latencies["flood"] += flooded
                sent += n
                gc.enable()
                await asyncio.sleep(DRAIN)
            dropped = await _metric(port, "dteam_updates_dropped_total")
        finally:
            await flooder.stop()
            await stop_process(bot)
        answered = await sandbox.answered(FLOODER)
    await sandbox.stop()
    gc.callbacks.remove(pauses)
    mode = "webhook" if webhook else "polling"
    print(f"{mode}: GC in the measuring process: {pauses.summary()}")
    # Other jobs on the machine set the tail as much as anything measured here: say how busy.
    print(f"{mode}: load average at the end  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    _report(mode, latencies, load, (sent, dropped, answered))


def _report(
    mode: str,
    latencies: dict[str, list[float]],
    load: dict[str, list[float]],
    flood: tuple[int, int, int],
) -> None:
    idle, control, busy = (latencies[c] for c in CONDITIONS)
    for label, condition in (
        ("idle bot          ", "idle"),
        ("flood to another  ", "control"),
        ("one user flooding ", "flood"),
    ):
        print(
            f"{mode}: {label} {_figures(latencies[condition])}  "
            f"bot CPU {load[condition][0] / max(load[condition][1], 1e-9) * 100:3.0f}%"
        )
    print(
        f"{mode}: p99 ratio          {_p99(busy) / _p99(idle):.2f}x of idle (target <= 1.5x), "
        f"{_p99(busy) / _p99(control):.2f}x of the stand-in flooding another bot"
    )
    sent, dropped, answered = flood
    print(
        f"{mode}: the flood          {sent} updates at {RATE:.0f}/s; dropped {dropped}, "
        f"{answered} replies to the flooder (paced ~1/s in their chat)",
        flush=True,
    )


BOT_CPU = 0
PINNED = False
TASKSET = shutil.which("taskset")  # util-linux


def _pin() -> bool:
    """Gives the bot a core of its own and everything else (probes, stand-in, flooder) the rest.

    The target is about the bot: does one user's flood slow the others' replies? On a machine
    of two cores, the flood's generator and the stand-in that receives it otherwise take the
    bot's core too, and that contention (the control condition shows it, the flood sent to
    another bot) is counted as the bot's unfairness. DTEAM_BENCH_PIN=0 measures unpinned.
    """
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if os.environ.get("DTEAM_BENCH_PIN", "1") == "0" or len(cpus) < 2 or TASKSET is None:
        return False
    os.sched_setaffinity(0, cpus - {BOT_CPU})  # inherited by the stand-in and the flooder
    return True


async def main(rounds: int = 5, others: int = 50, modes: str = "polling,webhook") -> None:
    """Runs the modes asked for and prints their figures."""
    global PINNED
    PINNED = _pin()
    print(f"bot pinned to CPU {BOT_CPU}, the rest elsewhere: {PINNED}", flush=True)
    for mode in modes.split(","):
        await _mode(mode == "webhook", rounds, others)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--flooder"]:
        asyncio.run(_flooder_main(args[1]))
    elif args[:1] == ["--stand-in"]:
        asyncio.run(_stand_in_main(args[1]))
    else:
        asyncio.run(
            main(
                int(args[0]) if args else 5,
                int(args[1]) if len(args) > 1 else 50,
                args[2] if len(args) > 2 else "polling,webhook",
            )
        )

"""The bot as a process: a task in this event loop (polling or webhook), or a child process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
_DRAINS: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks


class InLoopBot:
    """A bot entry point run as a task in this event loop, started and stopped like a process."""

    what = "bot"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def _main(self, stop: asyncio.Event, ready: asyncio.Event) -> Coroutine[Any, Any, None]:
        """The entry point: runs until stop is set, sets ready once it serves."""
        raise NotImplementedError

    async def start(self) -> None:
        """Starts the bot and waits until it is ready (polls, or its webhook is set)."""
        self._stop, ready = asyncio.Event(), asyncio.Event()
        self._task = asyncio.create_task(self._main(self._stop, ready))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({self._task, waiter}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            waiter.cancel()
            self._task.result()  # raises what stopped the bot
            raise RuntimeError(f"{self.what} stopped while starting")
        if not ready.is_set():
            waiter.cancel()
            raise TimeoutError(f"{self.what} did not start")

    async def stop(self) -> None:
        """Stops the bot gracefully."""
        if self._task is None:
            return
        self._stop.set()
        await asyncio.wait_for(self._task, 30)
        self._task = None

    async def crash(self) -> None:
        """Cancels the bot mid-flight, as close to a kill as one event loop allows."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


async def spawn(
    cmd: list[str], env: dict[str, str], ready: str, *, log: Path | None = None
) -> asyncio.subprocess.Process:
    """Starts cmd in the project root and returns once it printed `ready`.

    Its output (stdout and stderr) is read all along, so the child never blocks on a full pipe,
    and appended to log if given. Raises RuntimeError if it exits before it was ready.
    """
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
    )
    seen, ended = asyncio.Event(), asyncio.Event()
    drain = asyncio.get_running_loop().create_task(_drain(proc, ready, seen, ended, log))
    _DRAINS.add(drain)
    drain.add_done_callback(_DRAINS.discard)
    waiters = {asyncio.create_task(seen.wait()), asyncio.create_task(ended.wait())}
    _, pending = await asyncio.wait(waiters, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()
    if not seen.is_set():
        raise RuntimeError(f"{' '.join(cmd[1:])} exited or hung before it was ready")
    return proc


async def _drain(
    proc: asyncio.subprocess.Process,
    ready: str,
    seen: asyncio.Event,
    ended: asyncio.Event,
    log: Path | None,
) -> None:
    assert proc.stdout is not None
    with (log or Path(os.devnull)).open("ab") as sink:
        while line := await proc.stdout.readline():
            sink.write(line)
            sink.flush()
            if ready in line.decode(errors="replace"):
                seen.set()
    ended.set()


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, as `docker stop` does; SIGKILL after 30 s."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()

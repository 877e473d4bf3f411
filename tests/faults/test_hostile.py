"""Malformed and hostile updates injected raw into the running bot: it stays up and polite."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.faults.harness import (
    FULL,
    TOKEN,
    BotSubprocess,
    make_sandbox,
    make_world,
    open_session,
    stored_runs,
    walkers,
)
from tests.faults.hostile import USERS, generate

N = 10_000 if FULL else 1_000


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_hostile_updates_crash_nothing(webhook: bool, tmp_path: Path) -> None:
    hostile = generate(N)
    url = f"sqlite+aiosqlite:///{tmp_path / 'dteam.sqlite'}"
    server = make_sandbox()
    await server.start()
    make_world(server)
    for uid in USERS:
        server.add_user(uid, f"H{uid}")
    bot = BotSubprocess(server, url, tmp_path / "bot.log", webhook=webhook)
    try:
        await bot.start()
        code = await open_session(server)
        started = time.monotonic()
        queue = server.bot_state(TOKEN).updates
        for i, update in enumerate(hostile):
            server.inject_update(update, token=TOKEN)
            if i % 200 == 199:
                await asyncio.sleep(0)  # let the sandbox serve polls while we inject
        deadline = time.monotonic() + 240
        # Malformed updates are skipped and acknowledged in both modes: a refused one would
        # come again for a day and hold back the later updates of its chat.
        while (left := list(queue.pending)) and time.monotonic() < deadline:
            await server.world.notifier.wait(0.2)
        assert not left, f"{len(left)} updates never taken"
        drained = time.monotonic() - started
        assert bot.alive
        (normal,) = walkers(server, code, 1, first=90_000, patience=30.0)
        await asyncio.wait_for(normal.walk(), 60)
        assert normal.saw_result
        assert normal.retries == 0
    finally:
        await bot.stop()
        await server.stop()
    stored = await stored_runs(url, [normal.user_id])
    assert stored[normal.user_id].answers == normal.sheet
    log = bot.log_text()
    assert "unhandled error" not in log
    assert "Traceback" not in log
    mode = "webhook" if webhook else "polling"
    print(f"\n{mode}: {N} hostile updates, all taken after {drained:.1f} s")  # noqa: T201

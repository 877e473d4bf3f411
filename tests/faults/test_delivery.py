"""Duplicated and out-of-order deliveries: every update twice, older taps after newer ones."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from bot.demo_crowd import answer_sheets
from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from tests.faults.harness import (
    TOKEN,
    BotSubprocess,
    make_sandbox,
    make_world,
    open_session,
    stored_runs,
)
from typology.questionnaire import load_questionnaire

PEOPLE = 4


def _pending(server: BotApiServer) -> dict[str, Any]:
    """The update the sandbox just queued (called right after queuing, before any await)."""
    return copy.deepcopy(server.bot_state(TOKEN).updates.pending[-1].payload)


def _question(message: StoredMessage) -> str | None:
    items = {
        str(b["callback_data"]).split(":")[2]
        for b in message.buttons
        if str(b.get("callback_data", "")).startswith("a:")
    }
    return next(iter(items)) if len(items) == 1 else None


async def _journey(
    server: BotApiServer, user_id: int, code: str, sheet: dict[str, str], *, webhook: bool
) -> int:
    """Answers every question; each tap is delivered twice, the previous one again late."""
    server.add_user(user_id, f"P{user_id}")
    mark = server.mark()
    server.send_text(user_id, f"/start {code}", token=TOKEN)
    server.inject_update(_pending(server), token=TOKEN)  # the same /start, same update_id
    welcome = await server.wait_for(lambda m: m.has_keyboard, 20, chat_id=user_id, since=mark)
    consent = next(b for b in welcome.buttons if str(b["callback_data"]).split(":")[0] == "c")
    mark = server.mark()
    server.press_button(user_id, welcome.message_id, consent["callback_data"], token=TOKEN)
    server.inject_update(_pending(server), token=TOKEN)
    previous: dict[str, Any] | None = None
    late = 0
    while True:
        message = await server.wait_for(
            lambda m: (
                m.has_keyboard
                and (
                    _question(m) is not None
                    or any(str(b["callback_data"]).startswith("s:") for b in m.buttons)
                )
            ),
            20,
            chat_id=user_id,
            since=mark,
        )
        item = _question(message)
        if item is None:
            return late
        data = next(
            str(b["callback_data"])
            for b in message.buttons
            if str(b["callback_data"]).split(":")[2:] == [item, sheet[item]]
        )
        mark = server.mark()
        server.press_button(user_id, message.message_id, data, token=TOKEN)
        tap = _pending(server)
        server.inject_update(tap, token=TOKEN)  # delivered twice with one update_id
        if previous is not None:
            # The tap before, again, after the newer one. Polling confirms by offset, so
            # there an older id can never come back; it comes as a new update instead.
            old = previous if webhook else {k: v for k, v in previous.items() if k != "update_id"}
            server.inject_update(old, token=TOKEN)
            late += 1
        previous = tap
        await asyncio.sleep(0)


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_duplicates_and_late_taps_change_nothing(
    webhook: bool, database_url: str, tmp_path: Path
) -> None:
    server = make_sandbox()
    await server.start()
    make_world(server)
    bot = BotSubprocess(server, database_url, tmp_path / "bot.log", webhook=webhook)
    sheets = answer_sheets(load_questionnaire(), PEOPLE, seed=3)
    ids = [60_000 + i for i in range(PEOPLE)]
    try:
        await bot.start()
        code = await open_session(server)
        await asyncio.gather(
            *(
                _journey(server, uid, code, sheet, webhook=webhook)
                for uid, sheet in zip(ids, sheets, strict=True)
            )
        )
        await asyncio.sleep(0.5)  # let the last late taps arrive
    finally:
        await bot.stop()
        await server.stop()
    stored = await stored_runs(database_url, ids)
    for uid, sheet in zip(ids, sheets, strict=True):
        assert (stored[uid].runs, stored[uid].finished) == (1, 1), uid
        assert stored[uid].answers == sheet, uid
        cards = [
            m
            for m in server.messages(uid, TOKEN)
            if any(str(b.get("callback_data", "")).startswith("s:") for b in m.buttons)
        ]
        assert len(cards) == 1, uid  # the result once, not once per delivery
    log = bot.log_text()
    assert "unhandled error" not in log
    # The duplicated /start and consent reach the write and are refused there; duplicated
    # answers are already stale when read (the run moved on) and write nothing either.
    assert log.count("was processed before; not writing again") >= PEOPLE * 2

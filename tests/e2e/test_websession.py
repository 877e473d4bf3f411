"""A moderated web session end to end: 30 participants, live message, D-Team post."""

from __future__ import annotations

import pytest

from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess
from tests.e2e.websession import (
    command,
    crowd,
    db_state,
    live_message,
    make_group,
    open_session,
    summary_counts,
    wait_live,
)

GROUP, MOD = -1001, 900


@pytest.mark.throttle  # the stand-in's limits are on: the bot paces as in production
async def test_thirty_join_live_and_summary_without_429(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    sandbox.set_limits(enabled=True)
    code = await open_session(sandbox, MOD, GROUP)
    live = live_message(sandbox, GROUP)
    assert live is not None
    assert "Beigetreten: 0 · Fertig: 0" in (live.text or "")
    people, types = await crowd(sandbox, code, range(2001, 2031), stagger=0.1, think=0.5)
    text = await wait_live(sandbox, GROUP, "Beigetreten: 30 · Fertig: 30")
    assert summary_counts(text) == {t: types.get(t, 0) for t in summary_counts(text)}
    assert sum(summary_counts(text).values()) == 30
    assert len([m for m in sandbox.messages(GROUP) if (m.text or "").startswith("📊")]) == 1
    assert live_message(sandbox, GROUP).pinned  # type: ignore[union-attr]

    post = await command(sandbox, MOD, GROUP, "/summary", lambda m: "Das D-Team" in (m.text or ""))
    counts = summary_counts(post.text or "")
    assert counts == {t: types.get(t, 0) for t in counts}
    assert sum(counts.values()) == 30
    assert "Fragen für die Diskussion" in (post.text or "")
    chart = [m for m in sandbox.messages(GROUP) if m.photo is not None][-1]
    assert chart.photo is not None
    assert chart.photo.data.startswith(b"\x89PNG")
    for person in people:  # no names in the group, ever
        assert all(
            person.first_name not in (m.text or m.caption or "") for m in sandbox.messages(GROUP)
        )
    _, _, stored = await db_state(bot)
    assert dict(stored) == dict(types)
    # Not a single 429 anywhere: live edits are combined and paced, private chats get at most
    # three messages at once, and bot/ paces the whole bot inside Telegram's windows.
    assert [c for c in sandbox.calls if c.status == 429] == []
    group_sends = [
        c.timestamp
        for c in sandbox.calls
        if c.chat_id == GROUP and c.method.lower().startswith(("send", "edit"))
    ]
    # never more than 20 group messages in any 60 s
    assert all(b - a >= 60 for a, b in zip(group_sends, group_sends[20:], strict=False))


async def test_summary_below_threshold_says_how_many_are_missing(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD, can_pin=False)
    code = await open_session(sandbox, MOD, GROUP)
    assert not live_message(sandbox, GROUP).pinned  # type: ignore[union-attr]
    await crowd(sandbox, code, range(2101, 2103))
    await wait_live(sandbox, GROUP, "Fertig: 2")
    assert "Die Zusammensetzung erscheint ab 3" in (live_message(sandbox, GROUP).text or "")  # type: ignore[union-attr]
    post = await command(sandbox, MOD, GROUP, "/summary")
    assert "fehlen noch 1 abgeschlossene" in (post.text or "")
    assert not [
        m
        for m in sandbox.messages(GROUP)
        if m.photo is not None and "Zusammensetzung" in (m.caption or "")
    ]

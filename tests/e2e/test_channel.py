"""Only allowed groups and the operator's moderators reach the channel (issue 11, item 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person, make_settings
from tests.e2e.schedule_helpers import (
    END,
    GROUP,
    MODERATOR,
    SCHEDULE,
    FakeClock,
    add_group,
    hand_swept_clock,
    live_bot,
    make_workshop,
    run_sweep,
)
from tests.e2e.websession import BOT_ID, command, make_group, open_session

CHANNEL = -100_555_000
ALLOWED, FOREIGN = -100_601, -100_602
FOREIGN_ADMIN, OPERATOR = 6601, 6602


def _channel(sandbox: BotApiServer) -> None:
    sandbox.add_channel(CHANNEL, "Ergebnisse des Betreibers")
    sandbox.set_member(CHANNEL, BOT_ID, "administrator", can_post_messages=True)


def _to_channel(sandbox: BotApiServer) -> list[str]:
    """Every request the bot made towards the channel that could have posted there."""
    return [
        c.method
        for c in sandbox.calls
        if c.chat_id == CHANNEL and c.method.lower().startswith(("send", "forward", "copy"))
    ]


async def _started(sandbox: BotApiServer, user_id: int) -> None:
    """The user opens the private chat with the bot, so that it may answer them there."""
    mark = sandbox.mark()
    sandbox.send_text(user_id, "/start")
    await sandbox.wait_for(lambda _m: True, 15, chat_id=user_id, since=mark)


async def _one_finished(sandbox: BotApiServer, code: str, user_id: int) -> None:
    person = Person(sandbox, user_id, f"P{user_id}")
    await person.answer_all(await person.join(code))


async def _summary(sandbox: BotApiServer, user_id: int, chat_id: int) -> None:
    await command(sandbox, user_id, chat_id, "/summary", lambda m: "D-Team" in (m.text or ""))


@pytest.fixture
async def channel_bot(sandbox: BotApiServer, database_url: str):  # type: ignore[no-untyped-def]
    _channel(sandbox)
    settings = make_settings(
        sandbox.root,
        database_url,
        channel_id=CHANNEL,
        channel_groups=f"{ALLOWED}",
        moderators=str(OPERATOR),
        privacy_threshold=1,
    )
    process = BotProcess(sandbox, settings)
    await process.start()
    yield process
    await process.stop()


async def test_a_foreign_groups_admin_gets_the_post_in_the_group_but_not_in_the_channel(
    sandbox: BotApiServer, channel_bot: BotProcess
) -> None:
    make_group(sandbox, FOREIGN, FOREIGN_ADMIN)
    await _started(sandbox, FOREIGN_ADMIN)
    code = await open_session(sandbox, FOREIGN_ADMIN, FOREIGN, "Gewinnspiel! Jetzt klicken")
    await _one_finished(sandbox, code, 7001)
    mark = sandbox.mark()
    await _summary(sandbox, FOREIGN_ADMIN, FOREIGN)
    refusal = await sandbox.wait_for(
        lambda m: "Kanal" in (m.text or ""), 15, chat_id=FOREIGN_ADMIN, since=mark
    )
    assert "nicht freigegeben" in (refusal.text or "")
    assert sandbox.messages(CHANNEL) == []
    assert _to_channel(sandbox) == []


async def test_the_refusal_goes_to_the_group_when_the_admin_never_started_the_bot(
    sandbox: BotApiServer, channel_bot: BotProcess
) -> None:
    make_group(sandbox, FOREIGN, FOREIGN_ADMIN)
    code = await open_session(sandbox, FOREIGN_ADMIN, FOREIGN)
    await _one_finished(sandbox, code, 7002)
    mark = sandbox.mark()
    await _summary(sandbox, FOREIGN_ADMIN, FOREIGN)
    await sandbox.wait_for(
        lambda m: "nicht freigegeben" in (m.text or ""), 15, chat_id=FOREIGN, since=mark
    )
    assert _to_channel(sandbox) == []


async def test_an_allowed_group_and_an_operators_moderator_reach_the_channel(
    sandbox: BotApiServer, channel_bot: BotProcess
) -> None:
    make_group(sandbox, ALLOWED, FOREIGN_ADMIN)
    code = await open_session(sandbox, FOREIGN_ADMIN, ALLOWED, "Kreis A")
    await _one_finished(sandbox, code, 7101)
    await _summary(sandbox, FOREIGN_ADMIN, ALLOWED)
    await sandbox.wait_for(lambda m: "Kreis A" in (m.text or ""), 15, chat_id=CHANNEL)
    make_group(sandbox, FOREIGN, OPERATOR)
    code = await open_session(sandbox, OPERATOR, FOREIGN, "Stadt B")
    await _one_finished(sandbox, code, 7102)
    await _summary(sandbox, OPERATOR, FOREIGN)
    await sandbox.wait_for(lambda m: "Stadt B" in (m.text or ""), 15, chat_id=CHANNEL)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return hand_swept_clock(monkeypatch)


@pytest.mark.parametrize("allowed", [False, True])
async def test_the_automatic_close_posts_to_the_channel_only_from_an_allowed_group(
    sandbox: BotApiServer, database_url: str, clock: FakeClock, allowed: bool
) -> None:
    add_group(sandbox)
    _channel(sandbox)
    settings = make_settings(
        sandbox.root,
        database_url,
        channel_id=CHANNEL,
        channel_groups=str(GROUP) if allowed else "",
        privacy_threshold=1,
    )
    workshop = await make_workshop(database_url, title="Rathaus Nord")
    async with live_bot(settings) as app:
        await _one_finished(sandbox, workshop.code, 7201)
        mark = sandbox.mark()
        sandbox.send_text(MODERATOR, SCHEDULE, chat_id=GROUP)
        await sandbox.wait_for(
            lambda m: "Zeitplan" in (m.text or ""), 10, chat_id=GROUP, since=mark
        )
        clock.set(END + timedelta(seconds=1))
        await run_sweep(app)
        assert any("Das D-Team" in (m.text or "") for m in sandbox.messages(GROUP))
    posted = [m for m in sandbox.messages(CHANNEL) if "Rathaus Nord" in (m.text or "")]
    assert len(posted) == (1 if allowed else 0)
    if not allowed:
        assert _to_channel(sandbox) == []

"""Start-up self-check against the sandbox, and /healthz in polling mode."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest

from sandbox.server import BotApiServer
from storage.migrate import head_revision
from storage.workshops import create_workshop
from tests.e2e.harness import BotProcess, make_settings
from tests.support.database import writing
from tests.support.ports import free_port

GROUP, CHANNEL, MODERATOR = -1001234, -1009876, 900


async def _open_workshop(database_url: str) -> None:
    async with writing(database_url, migrated=True) as session:
        await create_workshop(session, chat_id=GROUP, title="Klausur", created_by=MODERATOR)


def _world(sandbox: BotApiServer, *, admin: bool) -> None:
    bot_id = sandbox.bot_state().user.id
    sandbox.add_user(MODERATOR, "Mo")
    # The moderator has /start-ed the bot once: their private chat exists.
    sandbox.world.private_chat(sandbox.world.user(MODERATOR))
    sandbox.bot_state().started.add(MODERATOR)
    sandbox.add_group(GROUP, "Digitalklausur", type="supergroup")
    sandbox.add_channel(CHANNEL, "Ergebnisse")
    if admin:
        sandbox.set_member(GROUP, bot_id, "administrator", can_pin_messages=True)
        sandbox.set_member(CHANNEL, bot_id, "administrator", can_post_messages=True)
    else:
        sandbox.set_member(GROUP, bot_id, "member")
        sandbox.set_member(CHANNEL, bot_id, "member")


async def test_problems_are_logged_and_sent_to_moderators(
    sandbox: BotApiServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _world(sandbox, admin=False)
    await _open_workshop(database_url)
    settings = make_settings(
        sandbox.root, database_url, moderators=str(MODERATOR), channel_id=CHANNEL
    )
    process = BotProcess(sandbox, settings)
    await process.start()
    try:
        notice = await sandbox.wait_for(
            lambda m: "Selbsttest" in (m.text or ""), 10, chat_id=MODERATOR, since=0
        )
        text = notice.text or ""
        assert f"{GROUP}" in text
        assert "Pin messages" in text
        assert f"{CHANNEL}" in text
        assert "Post messages" in text
        lines = [r.getMessage() for r in caplog.records if "self-check:" in r.getMessage()]
        assert len(lines) == 2
        assert all("\n" not in line for line in lines)
    finally:
        await process.stop()


async def test_clean_start_tells_nobody(
    sandbox: BotApiServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.selfcheck")
    _world(sandbox, admin=True)
    await _open_workshop(database_url)
    port = free_port()
    settings = make_settings(
        sandbox.root,
        database_url,
        moderators=str(MODERATOR),
        channel_id=CHANNEL,
        listen_port=port,
    )
    process = BotProcess(sandbox, settings)
    await process.start()
    try:
        assert sandbox.messages(MODERATOR) == []
        assert any("self-check passed" in r.getMessage() for r in caplog.records)
        # Polling serves /healthz too (the Docker HEALTHCHECK).
        async with (
            aiohttp.ClientSession(trust_env=False) as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as resp,
        ):
            assert resp.status == 200
            body = json.loads(await resp.text())
        assert body == {"database": True, "bot": True, "schema": head_revision()}
    finally:
        await process.stop()

"""Fixtures for end-to-end tests: a sandbox Bot API and the real bot polling it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.server import BotApiServer
from tests.e2e.harness import BOT_USERNAME, TOKEN, BotProcess, make_settings


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiServer]:
    server = BotApiServer()
    await server.start()
    server.add_bot(TOKEN, username=BOT_USERNAME)
    yield server
    await server.stop()


@pytest.fixture
async def bot(
    sandbox: BotApiServer, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[BotProcess]:
    throttle = request.node.get_closest_marker("throttle") is not None
    process = BotProcess(sandbox, make_settings(sandbox.root, database_url, throttle=throttle))
    await process.start()
    yield process
    await process.stop()

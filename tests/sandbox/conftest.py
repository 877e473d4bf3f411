"""Fixtures: a running sandbox and a real python-telegram-bot Bot pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot

from sandbox.context import Settings
from sandbox.server import BotApiServer

TOKEN = "123456:TEST-token_abc"
USER = 1001


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    """A sandbox with one bot and one user who has started it."""
    api = BotApiServer(settings=Settings(webhook_backoff=0.05, callback_answer_window=2.0))
    await api.start()
    api.add_bot(TOKEN)
    api.add_user(USER, "Erika", language_code="de", username="erika")
    yield api
    await api.stop()


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    """An initialised PTB Bot talking to the sandbox over loopback."""
    async with Bot(
        TOKEN, base_url=f"{server.root}/bot", base_file_url=f"{server.root}/file/bot"
    ) as ptb:
        yield ptb


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A raw HTTP client for wire-level checks."""
    async with aiohttp.ClientSession() as session:
        yield session

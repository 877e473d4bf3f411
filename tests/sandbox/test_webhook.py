"""Webhook delivery: secret header, retry on errors, ordering, loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest

from sandbox.server import BotApiServer
from tests.sandbox.conftest import USER


class Receiver:
    """A tiny webhook endpoint that fails the first ``failures`` deliveries."""

    def __init__(self) -> None:
        self.failures = 0
        self.received: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.arrived = asyncio.Event()
        self.url = ""
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        body = await request.json()
        if self.failures > 0:
            self.failures -= 1
            return web.Response(status=500)
        await asyncio.sleep(self.delay)
        self.received.append(body)
        self.arrived.set()
        return web.Response(text="ok")

    async def wait(self, count: int, seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    hook.url = f"http://{host}:{port}/hook"
    yield hook
    await runner.cleanup()


async def test_delivery_with_secret_and_retry(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    receiver.failures = 2
    secret = "s3cr3t-_token"
    await bot.set_webhook(receiver.url, secret_token=secret)
    server.send_text(USER, "/start")
    await receiver.wait(1)
    assert receiver.received[0]["message"]["text"] == "/start"
    assert receiver.secrets == [secret] * 3
    info = await bot.get_webhook_info()
    assert info.url == receiver.url
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert server.stats()["webhook_failed"] == 2


async def test_pending_count_while_failing(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    receiver.failures = 1000
    await bot.set_webhook(receiver.url)
    server.send_text(USER, "a")
    server.send_text(USER, "b")
    await asyncio.sleep(0.2)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 2
    await bot.delete_webhook()
    assert len(await bot.get_updates()) == 2  # undelivered updates are kept for polling


async def test_per_chat_order_and_parallel_chats(
    server: BotApiServer, bot: Bot, receiver: Receiver
) -> None:
    receiver.delay = 0.1
    for user_id in range(1, 6):
        server.add_user(user_id, f"U{user_id}")
    await bot.set_webhook(receiver.url, max_connections=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(3):
        for user_id in range(1, 6):
            server.send_text(user_id, f"{user_id}-{n}")
    await receiver.wait(15)
    elapsed = loop.time() - started
    assert elapsed < 1.2  # 5 chats in parallel, 3 sequential messages each
    for user_id in range(1, 6):
        texts = [
            u["message"]["text"]
            for u in receiver.received
            if u["message"]["chat"]["id"] == user_id
        ]
        assert texts == [f"{user_id}-{n}" for n in range(3)]


async def test_only_loopback_urls(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="loopback"):
        await bot.set_webhook("https://example.org/hook")
    with pytest.raises(BadRequest, match="secret token"):
        await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="bad secret!")

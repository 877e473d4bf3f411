"""The aiohttp transport behaves like PTB's own: same calls, same errors, timeouts that hold."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter

from bot.extbot import is_loopback, make_bot
from bot.http import AiohttpRequest
from sandbox.server import BotApiServer
from tests.support.ports import free_port

TOKEN = "123456:TEST-token_http"
USER = 4242


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    api = BotApiServer()
    await api.start()
    api.add_bot(TOKEN, username="http_bot")
    api.add_user(USER, "Hanna", language_code="de")
    api.send_text(USER, "/start", token=TOKEN)  # Telegram: no messages to users who did not
    yield api
    await api.stop()


def _bot(root: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=request or AiohttpRequest(connection_pool_size=4),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), "#0072B2").save(buf, format="PNG")
    return buf.getvalue()


async def test_messages_edits_and_errors_arrive_as_with_httpx(server: BotApiServer) -> None:
    async with _bot(server.root) as bot:
        me = await bot.get_me()
        assert me.username == "http_bot"
        sent = await bot.send_message(USER, "Grüße <b>fett</b>", parse_mode="HTML")
        shown = server.last_message(USER, TOKEN)
        assert shown is not None
        assert shown.text == "Grüße fett"
        edited = await bot.edit_message_text("Neu", chat_id=USER, message_id=sent.message_id)
        assert not isinstance(edited, bool)
        assert edited.text == "Neu"
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("Neu", chat_id=USER, message_id=sent.message_id)
        server.inject_fault("sendMessage", status=429, count=1, retry_after=3)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "zu schnell")
        wait = caught.value.retry_after
        assert (wait if isinstance(wait, int | float) else wait.total_seconds()) == 3
        server.block_bot(USER, token=TOKEN)
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "blockiert")


async def test_upload_and_download_keep_the_bytes(server: BotApiServer) -> None:
    png = _png()
    async with _bot(server.root) as bot:
        message = await bot.send_photo(USER, png, caption="Profil")
        assert message.caption == "Profil"
        file = await bot.get_file(message.photo[-1].file_id)
        assert bytes(await file.download_as_bytearray()) == png


async def test_a_slow_answer_times_out(server: BotApiServer) -> None:
    request = AiohttpRequest(connection_pool_size=2, read_timeout=0.2)
    async with _bot(server.root, request) as bot:
        server.set_latency(1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "langsam")
        server.set_latency(0.0)
        assert (await bot.send_message(USER, "wieder schnell")).text == "wieder schnell"


async def test_a_full_pool_times_out_instead_of_waiting_forever(server: BotApiServer) -> None:
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1)
    async with _bot(server.root, request) as bot:
        server.set_latency(1.0)
        first = asyncio.create_task(bot.send_message(USER, "belegt die Verbindung"))
        await asyncio.sleep(0.2)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "wartet auf die Verbindung")
        assert (await first).text == "belegt die Verbindung"


async def test_no_server_is_a_network_error() -> None:
    port = free_port()
    # Nothing listens on the port any more: the connection is refused.
    bot = _bot(f"http://127.0.0.1:{port}")
    with pytest.raises(NetworkError) as caught:
        await bot.initialize()  # asks getMe
    assert not isinstance(caught.value, TimedOut)
    await bot.shutdown()


async def test_the_session_opens_again_after_shutdown(server: BotApiServer) -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{server.root}/bot{TOKEN}/getMe", "POST")
    await request.initialize()
    status, body = await request.do_request(f"{server.root}/bot{TOKEN}/getMe", "POST")
    assert status == 200
    assert b'"ok":true' in body.replace(b" ", b"")
    await request.shutdown()
    await request.initialize()
    status, _ = await request.do_request(f"{server.root}/bot{TOKEN}/getMe", "POST")
    assert status == 200
    await request.shutdown()


async def test_the_proxy_from_the_environment_is_used(
    server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind an outbound proxy (common in public administrations), as with PTB's httpx."""
    seen: list[str] = []
    upstream = aiohttp.ClientSession()  # the proxy's own client ignores the environment

    async def forward(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        async with upstream.request(
            request.method, request.url, data=await request.read(), headers=request.headers
        ) as answer:
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    try:
        async with _bot(server.root) as bot:
            me = await bot.get_me()
            await bot.send_message(USER, "über den Proxy")
        assert me.username == "http_bot"
        assert server.last_message(USER, TOKEN).text == "über den Proxy"  # type: ignore[union-attr]
        assert any(url.endswith("/getMe") for url in seen)
        assert any(url.endswith("/sendMessage") for url in seen)
    finally:
        await upstream.close()
        await runner.cleanup()


async def test_a_bot_api_on_this_machine_is_reached_without_the_proxy(
    server: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No proxy can reach the stand-in on loopback: make_bot goes there directly."""
    dead = free_port()  # a port where nothing listens: a proxy that is not there
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead}")
    assert is_loopback(server.root)
    assert is_loopback("http://localhost:8081")
    assert is_loopback("http://[::1]:8081")
    assert not is_loopback("https://api.telegram.org")
    assert not is_loopback("http://10.0.0.5:8081")
    bot = make_bot(token=TOKEN, api_root=server.root, rate_limiter=AIORateLimiter(), pool_size=2)
    async with bot:
        assert (await bot.get_me()).username == "http_bot"
        updates = await bot.get_updates(timeout=0)  # the long-polling connection, too
        assert [u.message.text for u in updates if u.message] == ["/start"]

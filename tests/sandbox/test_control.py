"""The HTTP control API and the command line entry point."""

from __future__ import annotations

import asyncio
import base64

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from sandbox.cli import main, serve, summary
from sandbox.server import BotApiServer
from tests.sandbox.conftest import USER


async def test_drive_through_http(
    server: BotApiServer, bot: Bot, http: aiohttp.ClientSession
) -> None:
    control = f"{server.root}/control"
    async with http.post(f"{control}/add_user", json={"user_id": 77, "first_name": "Ada"}) as r:
        assert (await r.json())["result"]["first_name"] == "Ada"
    async with http.post(f"{control}/send_text", json={"user_id": 77, "text": "/start"}) as r:
        update = (await r.json())["result"]
    assert update["message"]["entities"][0]["type"] == "bot_command"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes")]])
    sent = await bot.send_message(77, "Einverstanden?", reply_markup=markup)
    async with http.get(f"{control}/messages", params={"chat_id": "77"}) as r:
        (message,) = (await r.json())["result"]
    assert message["text"] == "Einverstanden?"
    assert message["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    body = {"user_id": 77, "message_id": sent.message_id, "callback_data": "yes"}
    async with http.post(f"{control}/press_button", json=body) as r:
        query_id = (await r.json())["result"]
    updates = await bot.get_updates()
    assert updates[-1].callback_query is not None
    assert updates[-1].callback_query.id == query_id
    async with http.post(f"{control}/press_button", json={**body, "callback_data": "no"}) as r:
        assert r.status == 400
    async with http.get(f"{control}/calls", params={"method": "sendmessage"}) as r:
        calls = (await r.json())["result"]
    assert [c["status"] for c in calls] == [200]
    async with http.post(f"{control}/inject_fault", json={"status": 403, "count": 1}) as r:
        assert (await r.json())["ok"]
    async with http.get(f"{control}/stats") as r:
        assert (await r.json())["result"]["requests"] >= 3
    async with http.post(f"{control}/nope", json={}) as r:
        assert r.status == 404


async def test_wait_over_http(server: BotApiServer, bot: Bot, http: aiohttp.ClientSession) -> None:
    server.send_text(USER, "/start")
    spec = {"chat_id": USER, "text_contains": "Ergebnis", "timeout": 2}
    waiting = asyncio.create_task(http.post(f"{server.root}/control/wait", json=spec))
    await asyncio.sleep(0.05)
    await bot.send_photo(USER, b"\x89PNG fake", caption="Ergebnis")
    async with await waiting as r:
        result = (await r.json())["result"]
    assert base64.b64decode(result["photo"]["data_base64"]) == b"\x89PNG fake"
    spec = {"chat_id": USER, "text_contains": "nie", "timeout": 0.05}
    async with http.post(f"{server.root}/control/wait", json=spec) as r:
        assert r.status == 408


async def test_serve_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(port=0, token="42:abc", stop=stop))
    await asyncio.sleep(0.2)
    stop.set()
    await task
    out = capsys.readouterr().out
    assert "Sandbox Bot API at http://127.0.0.1:" in out
    assert "/control/<action>" in out
    assert "42:abc" in summary("http://x", "42:abc")


def test_main_rejects_bad_token() -> None:
    with pytest.raises(SystemExit):
        main(["--token", "nope"])

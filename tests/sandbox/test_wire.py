"""Wire format: envelope, status codes, tokens, methods and parameter encodings."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import InvalidToken

from sandbox.server import BotApiServer
from tests.sandbox.conftest import TOKEN, USER


async def test_unknown_token_is_401(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{server.root}/bot1:nope/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_is_404(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.root}/bot{TOKEN}/fooBar") as response:
        assert response.status == 404
        body = await response.json()
        assert body["error_code"] == 404
        assert body["description"] == "Not Found"


async def test_method_names_are_case_insensitive(
    server: BotApiServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.root}/bot{TOKEN}/GETME") as response:
        body = await response.json()
    assert response.status == 200
    assert body["ok"] is True
    assert body["result"]["id"] == 123456
    assert body["result"]["is_bot"] is True
    assert body["result"]["can_read_all_group_messages"] is False


async def test_json_and_form_bodies(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    server.send_text(USER, "/start")
    url = f"{server.root}/bot{TOKEN}/sendMessage"
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    async with http.post(url, data={"chat_id": str(USER), "text": "form", "reply_markup": markup}):
        pass
    async with http.post(url, json={"chat_id": USER, "text": "json"}) as response:
        body = await response.json()
    assert body["result"]["chat"] == {
        "id": USER,
        "type": "private",
        "first_name": "Erika",
        "username": "erika",
    }
    async with http.get(url, params={"chat_id": str(USER), "text": "query"}) as response:
        assert response.status == 200
    texts = [m.text for m in server.messages(USER)]
    assert texts == ["form", "json", "query"]
    assert server.messages(USER)[0].buttons == [{"text": "A", "callback_data": "a"}]


async def test_bad_request_envelope(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{server.root}/bot{TOKEN}/sendMessage", json={"text": "x"}) as response:
        assert response.status == 400
        body = await response.json()
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}


async def test_ptb_maps_401_to_invalid_token(server: BotApiServer) -> None:
    ptb = Bot("9:wrong", base_url=f"{server.root}/bot")
    try:
        with pytest.raises(InvalidToken):
            await ptb.initialize()
    finally:
        await ptb.shutdown()


async def test_calls_are_logged(server: BotApiServer, bot: Bot) -> None:
    await bot.get_me()
    names = [c.method for c in server.calls]
    assert names[-1] == "getMe"
    assert server.calls[-1].status == 200
    assert server.stats()["method_getMe"] >= 1

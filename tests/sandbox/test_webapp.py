"""Mini App buttons and links in the stand-in: Telegram's URL rules and the URL a client loads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from telegram.error import BadRequest

from sandbox.context import Settings
from sandbox.server import BotApiServer
from tests.sandbox.conftest import TOKEN, USER


def app_button(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Öffnen", web_app=WebAppInfo(url))]])


def launch(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).fragment))


def signed_fields(url: str) -> dict[str, str]:
    return dict(parse_qsl(launch(url)["tgWebAppData"]))


@pytest.fixture
async def lenient() -> AsyncIterator[BotApiServer]:
    """A stand-in that lets Mini Apps be served over http://127.0.0.1 (tests, offline demo)."""
    api = BotApiServer(settings=Settings(allow_http_webapps=True))
    await api.start()
    api.add_bot(TOKEN, username="dteam_test_bot")
    api.add_user(USER, "Erika", language_code="de", username="erika")
    yield api
    await api.stop()


async def test_web_app_urls_must_be_https(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await bot.send_message(USER, "x", reply_markup=app_button("http://127.0.0.1:8080/app/"))
    reply = ReplyKeyboardMarkup([[KeyboardButton("App", web_app=WebAppInfo("http://x.org/"))]])
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await bot.send_message(USER, "x", reply_markup=reply)
    with pytest.raises(ValueError, match="Only HTTPS"):
        server.set_main_web_app("http://127.0.0.1:8080/app/")
    sent = await bot.send_message(USER, "x", reply_markup=app_button("https://bot.example/app/"))
    assert sent.reply_markup == app_button("https://bot.example/app/")


async def test_open_from_inline_button(lenient: BotApiServer) -> None:
    async with Bot(TOKEN, base_url=f"{lenient.root}/bot") as bot:
        lenient.send_text(USER, "/start")
        sent = await bot.send_message(
            USER, "x", reply_markup=app_button("http://127.0.0.1:8080/app/")
        )
    url = lenient.open_web_app(USER, sent.message_id, platform="ios")
    assert url.startswith("http://127.0.0.1:8080/app/#")
    params = launch(url)
    assert params["tgWebAppPlatform"] == "ios"
    assert params["tgWebAppVersion"] == "8.0"
    assert "bg_color" in json.loads(params["tgWebAppThemeParams"])
    data = signed_fields(url)
    assert json.loads(data["user"])["id"] == USER
    assert {"query_id", "auth_date", "signature", "hash"} <= data.keys()
    assert "start_param" not in data
    with pytest.raises(ValueError, match="no web_app button"):
        lenient.open_web_app(USER, sent.message_id - 1)


async def test_open_from_reply_keyboard(lenient: BotApiServer) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Fragebogen", web_app=WebAppInfo("http://127.0.0.1:1/q/"))]]
    )
    async with Bot(TOKEN, base_url=f"{lenient.root}/bot") as bot:
        lenient.send_text(USER, "/start")
        sent = await bot.send_message(USER, "x", reply_markup=keyboard)
    assert sent.reply_markup is None  # a reply keyboard is not part of the Message
    url = lenient.open_web_app(USER, sent.message_id, text="Fragebogen")
    assert url.startswith("http://127.0.0.1:1/q/#tgWebAppData=")


async def test_direct_link_needs_a_main_mini_app(lenient: BotApiServer) -> None:
    link = "https://t.me/dteam_test_bot?startapp=s-ABC12"
    with pytest.raises(ValueError, match="no Main Mini App"):
        lenient.open_web_app(USER, link=link)
    lenient.set_main_web_app("http://127.0.0.1:8080/app/")
    url = lenient.open_web_app(USER, link=link)
    assert urlsplit(url).query == "tgWebAppStartParam=s-ABC12"
    data = signed_fields(url)
    assert data["start_param"] == "s-ABC12"
    assert data["chat_type"] == "sender"
    with pytest.raises(ValueError, match="not a direct link"):
        lenient.open_web_app(USER, link="https://t.me/other_bot?startapp=s-ABC12")
    with pytest.raises(ValueError, match="startapp must be"):
        lenient.open_web_app(USER, link="https://t.me/dteam_test_bot?startapp=a%20b")


async def test_direct_link_lets_the_bot_write(lenient: BotApiServer) -> None:
    # allows_write_to_pm: whoever opened the Main Mini App may get messages, even without /start.
    lenient.add_user(4711, "Neu", language_code="de")
    lenient.set_main_web_app("http://127.0.0.1:8080/app/")
    async with Bot(TOKEN, base_url=f"{lenient.root}/bot") as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(4711, "vorher")
        url = lenient.open_web_app(4711, link="https://t.me/dteam_test_bot?startapp=s1")
        assert json.loads(signed_fields(url)["user"])["allows_write_to_pm"] is True
        sent = await bot.send_message(4711, "nachher")
    assert sent.chat.id == 4711


async def test_open_over_http_control(lenient: BotApiServer) -> None:
    lenient.set_main_web_app("http://127.0.0.1:8080/app/")
    async with aiohttp.ClientSession() as http:
        answer = await http.post(
            f"{lenient.root}/control/open_web_app",
            json={"user_id": USER, "link": "t.me/dteam_test_bot?startapp=xyz"},
        )
        body = await answer.json()
    assert body["ok"] is True
    assert signed_fields(body["result"])["start_param"] == "xyz"

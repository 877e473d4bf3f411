"""The Mini App's page in a real browser: served by the bot, strict CSP, a clean console."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import aiohttp
from playwright.async_api import Page

from tests.web.conftest import BROWSER_LOOP, Watched, WebBot
from web.security import CONTENT_SECURITY_POLICY

pytestmark = BROWSER_LOOP


async def test_page_loads_under_the_policy(
    web_bot: WebBot, phone: Watched, screenshot: Callable[[Page, str], Awaitable[Path]]
) -> None:
    theme = quote(json.dumps({"bg_color": "#102030", "text_color": "#fafafa"}))
    response = await phone.page.goto(f"{web_bot.url}/app/#tgWebAppThemeParams={theme}")
    assert response is not None
    assert response.status == 200
    headers = await response.all_headers()
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    # The stylesheet and the script came from the bot and ran: the body takes the theme's
    # colour, which the script sets as a custom property that only the stylesheet uses.
    await phone.page.locator("h1.error").wait_for()  # no launch data: "only in Telegram"
    colour = await phone.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colour == "rgb(16, 32, 48)"
    await screenshot(phone.page, "smoke-app-shell")
    assert phone.errors == []


async def test_every_response_carries_the_headers(web_bot: WebBot) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/app/", "/static/app.js", "/healthz", "/no/such/page"):
            async with http.get(web_bot.url + path) as answer:
                assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
                assert answer.headers["X-Content-Type-Options"] == "nosniff", path
                assert answer.headers["Referrer-Policy"] == "no-referrer", path

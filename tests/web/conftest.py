"""Browser fixtures: Debian's headless Chromium driven by Playwright, and the bot serving pages.

Every test module here runs in the session's event loop (`pytestmark = BROWSER_LOOP`), where
the one browser of the session lives.
Without Chromium (a non-root machine) they skip with the reason; under CI=true they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, ViewportSize, async_playwright

from sandbox.context import Settings as StandInSettings
from sandbox.server import BotApiServer
from tests.e2e.harness import BOT_USERNAME, TOKEN, BotProcess, make_settings
from tests.support.ports import free_port

CHROMIUM = Path(os.environ.get("DTEAM_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # as root in a container Chromium's own sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
BROWSER_LOOP = pytest.mark.asyncio(loop_scope="session")
SCREENS = Path(__file__).resolve().parents[2] / "artifacts" / "screens"


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: scripts/test installs Debian's chromium when run as root"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium (the system's) for the whole session."""
    _need_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@dataclass
class Watched:
    """A phone-sized page, with what its console and scripts reported."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        """Keeps console errors and warnings (CSP violations are reported there)."""
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")


@pytest_asyncio.fixture(loop_scope="session")
async def phone(browser: Browser) -> AsyncIterator[Watched]:
    """A fresh 390x844 touch page; its console errors and page errors are collected."""
    async with watched_page(
        browser,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="de-DE",
    ) as watched:
        yield watched


@asynccontextmanager
async def watched_page(browser: Browser, **context: Any) -> AsyncIterator[Watched]:
    """A page in a fresh browser context (arguments as Browser.new_context) whose console
    errors, page errors and CSP violations are collected."""
    browser_context = await browser.new_context(**context)
    page = await browser_context.new_page()
    watched = Watched(page)
    page.on("console", watched.record)
    page.on("pageerror", lambda exc: watched.errors.append(f"pageerror: {exc}"))
    # A securitypolicyviolation event names what CSP blocked, even where the console does not.
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    try:
        yield watched
    finally:
        await browser_context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Awaitable[Path]]:
    """Returns an async helper saving a page's screenshot under artifacts/screens/."""

    async def save(page: Page, name: str) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=False)
        return path

    return save


@pytest_asyncio.fixture(loop_scope="session")
async def stand_in() -> AsyncIterator[BotApiServer]:
    """The Bot API stand-in, letting Mini Apps be served over http://127.0.0.1."""
    server = BotApiServer(settings=StandInSettings(allow_http_webapps=True))
    await server.start()
    server.add_bot(TOKEN, username=BOT_USERNAME)
    yield server
    await server.stop()


@dataclass
class WebBot:
    """The real bot polling the stand-in and serving its pages at url."""

    process: BotProcess
    url: str


@pytest_asyncio.fixture(loop_scope="session")
async def web_bot(
    stand_in: BotApiServer, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[WebBot]:
    """Runs the bot (the `dteam run` code path) with DTEAM_PUBLIC_URL at its own address.

    On SQLite and on PostgreSQL (the `database_url` fixture), like the end-to-end tests.

    Marker `bot_settings(name=value, ...)` overrides further settings.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    marker = request.node.get_closest_marker("bot_settings")
    extra = dict(marker.kwargs) if marker is not None else {}
    settings = make_settings(
        stand_in.root, database_url, listen_port=port, public_url=url, **extra
    )
    process = BotProcess(stand_in, settings)
    await process.start()
    yield WebBot(process, url)
    await process.stop()

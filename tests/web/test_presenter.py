"""The presenter page in a real browser: the real bot, the stand-in, Debian's Chromium.

The page loads with /beamer's link, shows nothing of the composition below the threshold or
while hidden, follows finishes without a reload (in steps of k), hides and reveals on command,
goes blank when the link is revoked, and refuses forged and expired links. Screenshots at
1920x1080 and 1280x720 go to artifacts/screens/.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, Page, ViewportSize

from handlers.core.screen_token import mint
from sandbox.server import BotApiServer
from tests.e2e.harness import Person
from tests.e2e.websession import command, crowd, finish, make_group, wait_live
from tests.web.conftest import BROWSER_LOOP, Watched, WebBot, watched_page
from web.security import CONTENT_SECURITY_POLICY

pytestmark = BROWSER_LOOP

GROUP, MOD = -7701, 771
Shot = Callable[[Page, str], Awaitable[Path]]
_LINK = re.compile(r"http://127\.0\.0\.1:\d+/screen/\S+")
FULL_HD: ViewportSize = {"width": 1920, "height": 1080}
HD: ViewportSize = {"width": 1280, "height": 720}


@pytest_asyncio.fixture(loop_scope="session")
async def screen(browser: Browser) -> AsyncIterator[Watched]:
    """A 1920x1080 page, as on a projector; console errors (CSP violations) are collected."""
    async with watched_page(browser, viewport=FULL_HD, locale="de-DE") as watched:
        yield watched


async def beamer(stand_in: BotApiServer, args: str = "") -> str:
    """Sends /beamer in the group; returns the moderator's private answer."""
    answer = await command(stand_in, MOD, GROUP, f"/beamer {args}".strip(), where=MOD)
    return answer.text or ""


async def open_workshop(stand_in: BotApiServer) -> tuple[str, str]:
    """Opens a workshop whose moderator started the bot; returns (join code, page link)."""
    make_group(stand_in, GROUP, MOD)
    await Person(stand_in, MOD).say("/start")
    qr = await command(
        stand_in, MOD, GROUP, "/session Klausurtagung Digitalisierung", lambda m: bool(m.photo)
    )
    await wait_live(stand_in, GROUP, "Beigetreten: 0")
    # With DTEAM_PUBLIC_URL the join link opens the Mini App; the chat link is the second button.
    code = re.search(r"\?startapp=([A-Za-z0-9_-]+)$", qr.buttons[0]["url"])
    assert code, qr.buttons
    link = _LINK.search(await beamer(stand_in))
    assert link, "no presenter link"
    return code[1], link[0]


async def finished(page: Page, n: int) -> None:
    """Waits until the page shows n finished (its event stream, no reload)."""
    await page.locator(f'#finished:text-is("{n}")').wait_for(timeout=10_000)


async def shown_counts(page: Page) -> dict[str, int]:
    rows = page.locator("#composition tbody tr")
    out = {}
    for i in range(await rows.count()):
        row = rows.nth(i)
        out[str(await row.get_attribute("data-type"))] = int(
            await row.locator("td.count").inner_text()
        )
    return out


async def test_the_page_follows_the_workshop_live_within_the_privacy_rule(
    stand_in: BotApiServer, web_bot: WebBot, screen: Watched, screenshot: Shot
) -> None:
    code, link = await open_workshop(stand_in)
    page = screen.page
    response = await page.goto(link)
    assert response is not None
    assert response.status == 200
    assert (await response.all_headers())["content-security-policy"] == CONTENT_SECURITY_POLICY
    await page.locator("h1", has_text="Klausurtagung Digitalisierung").wait_for()
    assert await page.locator(".code strong").inner_text() == code
    assert await page.locator("img.qr").get_attribute("alt") == (
        f"QR-Code zum Mitmachen: https://t.me/dteam_test_bot?startapp={code}"
    )
    await page.evaluate("document.body.dataset.loaded = 'once'")  # gone if the page reloads
    await finished(page, 0)
    await page.locator("#hidden-note").wait_for()

    await beamer(stand_in, "reveal")
    await page.locator("#waiting").wait_for()  # revealed, but nobody has finished
    await crowd(stand_in, code, range(77001, 77003))
    await finished(page, 2)
    assert await page.locator("#composition").count() == 0  # 2 < k = 3: nothing
    assert "ab 3 fertigen" in await page.locator("#waiting").inner_text()

    await finish(Person(stand_in, 77003, timeout=30), code, seed=77003)
    await finished(page, 3)
    await page.locator("#composition").wait_for()
    first = await shown_counts(page)
    assert sum(first.values()) == 3
    await finish(Person(stand_in, 77004, timeout=30), code, seed=77004)
    await finished(page, 4)
    assert await shown_counts(page) == first  # one more finisher changes no count
    # A screen reader hears the new counts from one status line, not the whole page again.
    assert await page.locator("#announce").inner_text() == "Beigetreten: 4, Fertig: 4"
    assert await page.locator("#screen[aria-live]").count() == 0
    await page.locator(".steps", has_text="die ersten 3").wait_for()
    live = await wait_live(stand_in, GROUP, "Fertig: 4")
    for name_de, count in zip(
        [await c.inner_text() for c in await page.locator("#composition tbody th").all()],
        first.values(),
        strict=True,
    ):
        assert f"• {name_de}: {count} (" in live  # the live message's numbers, word for word

    await page.get_by_role("button", name="Ergebnisse verbergen").click()
    await page.locator("#hidden-note").wait_for()
    assert await page.locator("#composition").count() == 0
    await beamer(stand_in, "reveal")
    await page.locator("#composition").wait_for()
    assert await page.evaluate("document.body.dataset.loaded") == "once"
    assert screen.errors == []

    await beamer(stand_in, "off")
    await page.locator("#gone").wait_for()
    assert await page.locator("#composition").count() == 0
    again = await page.goto(link)
    assert again is not None
    assert again.status == 403


async def test_screenshots_at_projector_sizes_with_teams(
    stand_in: BotApiServer, web_bot: WebBot, screen: Watched, screenshot: Shot
) -> None:
    code, link = await open_workshop(stand_in)
    await beamer(stand_in, "reveal")
    await crowd(stand_in, code, range(77101, 77113))
    await wait_live(stand_in, GROUP, "Fertig: 12")
    await command(stand_in, MOD, GROUP, "/teams 4", lambda m: "Breakouts" in (m.text or ""))
    page = screen.page
    for size, name in ((FULL_HD, "presenter-1920x1080"), (HD, "presenter-1280x720")):
        await page.set_viewport_size(size)
        await page.goto(link)
        await page.locator("#teams li").first.wait_for()
        assert await page.locator("#teams li").count() == 3
        await screenshot(page, name)
        # Everything fits the screen: nothing below the fold of a shared window.
        height = await page.evaluate("document.documentElement.scrollHeight")
        assert height <= size["height"], (name, height)
    assert await page.locator("#goals").count() == 1
    assert screen.errors == []


async def test_forged_and_expired_links_reveal_nothing(
    stand_in: BotApiServer, web_bot: WebBot, screen: Watched
) -> None:
    code, link = await open_workshop(stand_in)
    await beamer(stand_in, "reveal")
    await crowd(stand_in, code, range(77201, 77204))
    root, token = link.split("/screen/")
    workshop_id, epoch = (int(p) for p in token.split(".")[:2])
    key = web_bot.process.settings.screen_key
    expired = mint(key, workshop_id=workshop_id, epoch=epoch, now=0)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other = f"{workshop_id + 1}." + token.split(".", 1)[1]
    for bad in (forged, expired, other):
        response = await screen.page.goto(f"{root}/screen/{bad}")
        assert response is not None
        assert response.status == 403, bad
        body = await screen.page.content()
        assert "Klausurtagung" not in body
        assert code not in body
        assert "composition" not in body


async def test_the_page_reconnects_by_itself_after_a_restart(
    stand_in: BotApiServer, web_bot: WebBot, screen: Watched
) -> None:
    code, link = await open_workshop(stand_in)
    page = screen.page
    await page.goto(link)
    await page.evaluate("document.body.dataset.loaded = 'once'")
    await finished(page, 0)
    began = time.monotonic()
    await web_bot.process.stop()
    # An open stream does not hold up the shutdown (the server would wait 10 s for it).
    assert time.monotonic() - began < 5
    await page.locator("#offline").wait_for(timeout=10_000)  # says so, keeps its view
    await web_bot.process.start()
    await finish(Person(stand_in, 77301, timeout=30), code, seed=77301)
    await finished(page, 1)  # the stream came back on its own, state read from the database
    assert await page.locator("#offline").is_hidden()
    assert await page.evaluate("document.body.dataset.loaded") == "once"

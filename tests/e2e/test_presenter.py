"""The presenter page over HTTP: /beamer's link, refusals, hiding, and live updates by SSE.

The browser tests (tests/web/test_presenter.py) look at the page; these check what the server
sends, with the real bot polling the stand-in.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.settings import Settings
from handlers.core.screen_token import mint
from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person, make_settings
from tests.e2e.webhook_harness import two_replicas
from tests.e2e.websession import command, crowd, finish, make_group, open_session, wait_live
from tests.support.ports import free_port

GROUP, MOD, OUTSIDER = -9901, 991, 992
_LINK = re.compile(r"http://127\.0\.0\.1:\d+/screen/\S+")


@pytest.fixture
def settings(sandbox: BotApiServer, database_url: str) -> Settings:
    return make_settings(sandbox.root, database_url, listen_port=free_port())


@pytest.fixture
async def screen_bot(sandbox: BotApiServer, settings: Settings) -> AsyncIterator[BotProcess]:
    process = BotProcess(sandbox, settings)
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _beamer(sandbox: BotApiServer, args: str = "") -> str:
    """Sends /beamer in the group; returns the moderator's private answer."""
    text = f"/beamer {args}".strip()
    answer = await command(sandbox, MOD, GROUP, text, where=MOD)
    return answer.text or ""


async def _workshop(sandbox: BotApiServer) -> tuple[str, str]:
    """Opens a workshop with a moderator who started the bot; returns (join code, page URL)."""
    make_group(sandbox, GROUP, MOD)
    await Person(sandbox, MOD).say("/start")
    code = await open_session(sandbox, MOD, GROUP, "Beamer")
    match = _LINK.search(await _beamer(sandbox))
    assert match, "no presenter link"
    return code, match[0]


async def _page(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


def _finished(html: str) -> int:
    match = re.search(r'id="finished">(\d+)<', html)
    assert match, html[:500]
    return int(match[1])


def _composition(html: str) -> dict[str, int]:
    rows = re.findall(r'data-type="(\w+)">\s*<th scope="row">[^<]*</th>\s*<td[^>]*>(\d+)<', html)
    return {t: int(c) for t, c in rows}


class Stream:
    """An open event stream of the page: the `view` bodies and whether `gone` came."""

    def __init__(self) -> None:
        self.views: list[str] = []
        self.gone = asyncio.Event()
        self.changed = asyncio.Event()

    async def read(self, response: aiohttp.ClientResponse) -> None:
        event, data = "", []
        async for raw in response.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
            elif not line:
                if event == "view":
                    self.views.append("\n".join(data))
                    self.changed.set()
                elif event == "gone":
                    self.gone.set()
                event, data = "", []

    async def until(self, check: object, timeout: float = 15) -> str:
        async def wait() -> str:
            while True:
                if self.views and check(self.views[-1]):  # type: ignore[operator]
                    return self.views[-1]
                self.changed.clear()
                await self.changed.wait()

        return await asyncio.wait_for(wait(), timeout)


async def test_only_moderators_get_a_link(sandbox: BotApiServer, screen_bot: BotProcess) -> None:
    make_group(sandbox, GROUP, MOD)
    sandbox.add_user(OUTSIDER, "Outsider")
    sandbox.set_member(GROUP, OUTSIDER, "member")
    await Person(sandbox, OUTSIDER).say("/start")
    await open_session(sandbox, MOD, GROUP)
    refusal = await command(sandbox, OUTSIDER, GROUP, "/beamer")
    assert "nur die Moderierenden" in (refusal.text or "")
    private = await Person(sandbox, OUTSIDER).say("/beamer")  # no workshop of theirs
    assert "keine Sitzung" in (private.text or "")
    sent = [m.text or "" for m in sandbox.messages(OUTSIDER) + sandbox.messages(GROUP)]
    assert not any("/screen/" in text for text in sent)


async def test_the_link_shows_counts_and_nothing_below_the_threshold_or_while_hidden(
    sandbox: BotApiServer, screen_bot: BotProcess, http: aiohttp.ClientSession
) -> None:
    code, url = await _workshop(sandbox)
    status, html = await _page(http, url)
    assert status == 200
    assert "Beamer" in html
    assert f"?start={code}" in html
    assert _finished(html) == 0
    assert 'id="hidden-note"' in html
    await crowd(sandbox, code, range(99001, 99004))
    await wait_live(sandbox, GROUP, "Fertig: 3")
    status, html = await _page(http, url)
    assert _finished(html) == 3
    assert _composition(html) == {}  # three finished, but the results are hidden
    assert "Am wichtigsten" not in html
    assert "jetzt sichtbar" in await _beamer(sandbox, "reveal")
    status, html = await _page(http, url)
    assert sum(_composition(html).values()) == 3


async def test_below_the_threshold_a_revealed_page_shows_no_composition(
    sandbox: BotApiServer, screen_bot: BotProcess, http: aiohttp.ClientSession
) -> None:
    code, url = await _workshop(sandbox)
    await _beamer(sandbox, "reveal")
    await crowd(sandbox, code, range(99101, 99103))
    await wait_live(sandbox, GROUP, "Fertig: 2")
    _, html = await _page(http, url)
    assert _finished(html) == 2
    assert _composition(html) == {}
    assert 'id="waiting"' in html
    assert "ab 3 fertigen" in html


async def test_the_stream_follows_finishes_in_steps_and_the_reveal_switch(
    sandbox: BotApiServer, screen_bot: BotProcess, http: aiohttp.ClientSession
) -> None:
    code, url = await _workshop(sandbox)
    stream = Stream()
    async with http.get(url + "/events") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        reader = asyncio.create_task(stream.read(response))
        await stream.until(lambda v: _finished(v) == 0)
        await crowd(sandbox, code, range(99201, 99204))
        await stream.until(lambda v: _finished(v) == 3)
        assert _composition(stream.views[-1]) == {}  # hidden
        async with http.post(url + "/reveal") as switched:
            assert switched.status == 204
        shown = _composition(await stream.until(lambda v: bool(_composition(v))))
        assert sum(shown.values()) == 3
        await finish(Person(sandbox, 99204, timeout=30), code, seed=99204)
        fourth = await stream.until(lambda v: _finished(v) == 4)
        assert _composition(fourth) == shown  # one more finisher changes no count
        await _beamer(sandbox, "hide")
        await stream.until(lambda v: not _composition(v))
        await _beamer(sandbox, "off")
        await asyncio.wait_for(stream.gone.wait(), 10)
        reader.cancel()
    status, html = await _page(http, url)
    assert status == 403
    assert "Beamer" not in html


async def test_forged_expired_and_other_workshops_links_are_refused(
    sandbox: BotApiServer,
    screen_bot: BotProcess,
    settings: Settings,
    http: aiohttp.ClientSession,
) -> None:
    code, url = await _workshop(sandbox)
    await _beamer(sandbox, "reveal")
    await crowd(sandbox, code, range(99301, 99304))
    root, token = url.split("/screen/")
    workshop_id, epoch = (int(p) for p in token.split(".")[:2])
    key = settings.screen_key
    expired = mint(key, workshop_id=workshop_id, epoch=epoch, now=0)
    other = mint(key, workshop_id=workshop_id + 1, epoch=epoch)  # a workshop that is not there
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    moved = f"{workshop_id + 1}." + token.split(".", 1)[1]
    for bad in (expired, other, forged, moved, "x", token + "x"):
        for path in ("", "/events"):
            status, body = await _page(http, f"{root}/screen/{bad}{path}")
            assert status == 403, (bad, path)
            assert "Beamer" not in body
            assert code not in body
        async with http.post(f"{root}/screen/{bad}/hide") as response:
            assert response.status == 403
    _, html = await _page(http, url)
    assert sum(_composition(html).values()) == 3  # nothing the refused requests did


async def test_an_open_stream_ends_when_its_link_expires(
    sandbox: BotApiServer,
    screen_bot: BotProcess,
    settings: Settings,
    http: aiohttp.ClientSession,
) -> None:
    _, url = await _workshop(sandbox)
    root, token = url.split("/screen/")
    workshop_id, epoch = (int(p) for p in token.split(".")[:2])
    short = mint(settings.screen_key, workshop_id=workshop_id, epoch=epoch, lifetime=3)
    stream = Stream()
    async with http.get(f"{root}/screen/{short}/events") as response:
        assert response.status == 200
        reader = asyncio.create_task(stream.read(response))
        await stream.until(lambda v: _finished(v) == 0)
        assert not stream.gone.is_set()
        await asyncio.wait_for(stream.gone.wait(), 10)
        reader.cancel()
    status, _ = await _page(http, f"{root}/screen/{short}")
    assert status == 403


async def test_two_webhook_replicas_show_the_same_page_from_the_database(
    sandbox: BotApiServer, database_url: str, http: aiohttp.ClientSession
) -> None:
    async with two_replicas(sandbox, database_url) as (_relay, replicas):
        code, url = await _workshop(sandbox)
        await _beamer(sandbox, "reveal")
        token = url.split("/screen/")[1]
        pages = [f"{r.base}/screen/{token}" for r in replicas]  # the same link on each replica
        streams = [Stream() for _ in pages]
        async with (
            http.get(pages[0] + "/events") as first,
            http.get(pages[1] + "/events") as second,
        ):
            readers = [
                asyncio.create_task(stream.read(response))
                for stream, response in zip(streams, (first, second), strict=True)
            ]
            await crowd(sandbox, code, range(99401, 99404))  # through both replicas, by turns
            shown = [
                _composition(await stream.until(lambda v: _finished(v) == 3)) for stream in streams
            ]
            assert shown[0] == shown[1]
            assert sum(shown[0].values()) == 3
            await _beamer(sandbox, "off")  # handled by one replica, refused by both
            for stream in streams:
                await asyncio.wait_for(stream.gone.wait(), 10)
            for reader in readers:
                reader.cancel()
        for page in pages:
            status, _ = await _page(http, page)
            assert status == 403

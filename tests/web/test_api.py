"""The Mini App's API refuses what Telegram did not sign, and what no button could send."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
import pytest_asyncio
from sqlalchemy import func, select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.database import Database
from storage.models import Answer, Participant, ProcessedUpdate, Run
from tests.web.conftest import BROWSER_LOOP, WebBot
from web.api import MAX_BODY

pytestmark = BROWSER_LOOP

ALICE, BOB = 5301, 5302


@dataclass
class Client:
    """Posts to the Mini App's API with a user's launch data."""

    http: aiohttp.ClientSession
    base: str
    init_data: str

    async def post(self, action: str, body: object = None, **headers: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        auth = {"Authorization": f"tma {self.init_data}"} | headers
        async with self.http.post(
            f"{self.base}/app/api/{action}", data=json.dumps(body or {}), headers=auth
        ) as answer:
            return answer.status, await answer.json()


def launch_data(
    stand_in: BotApiServer, user: int, auth_date: int | None = None, *, start: str = ""
) -> str:
    """Returns the signed launch data of the app opened from its link (start: its parameter)."""
    link = (
        f"https://t.me/dteam_test_bot?startapp={start}"
        if start
        else "https://t.me/dteam_test_bot?startapp"
    )
    url = stand_in.open_web_app(user, link=link, auth_date=auth_date)
    return dict(parse_qsl(url.split("#", 1)[1]))["tgWebAppData"]


@pytest_asyncio.fixture(loop_scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture(loop_scope="session")
async def alice(web_bot: WebBot, stand_in: BotApiServer, http: aiohttp.ClientSession) -> Client:
    stand_in.set_main_web_app(f"{web_bot.url}/app/")
    for uid in (ALICE, BOB):
        stand_in.add_user(uid, f"User {uid}", language_code="de")
    return Client(http, web_bot.url, launch_data(stand_in, ALICE))


async def counts(bot: WebBot) -> tuple[int, int, int, int]:
    db = Database(bot.process.settings.database_url)
    try:
        async with db.read() as session:
            return (
                (
                    await session.execute(select(func.count()).select_from(Participant))
                ).scalar_one(),
                (await session.execute(select(func.count()).select_from(Run))).scalar_one(),
                (await session.execute(select(func.count()).select_from(Answer))).scalar_one(),
                (
                    await session.execute(select(func.count()).select_from(ProcessedUpdate))
                ).scalar_one(),
            )
    finally:
        await db.dispose()


def forged(init_data: str, **changes: str) -> str:
    fields = dict(parse_qsl(init_data))
    fields.update(changes)
    return urlencode(fields, quote_via=quote)


async def test_unsigned_forged_and_expired_get_401_and_write_nothing(
    web_bot: WebBot, stand_in: BotApiServer, alice: Client
) -> None:
    before = await counts(web_bot)
    user = json.dumps({"id": BOB, "first_name": "Bob"}, separators=(",", ":"))
    expired = launch_data(stand_in, ALICE, auth_date=int(time.time()) - 86_401)
    for init_data, error in [
        ("", "unauthorized"),
        (forged(alice.init_data, user=user), "unauthorized"),  # someone else's id
        (forged(alice.init_data, hash="0" * 64), "unauthorized"),
        (forged(alice.init_data, start_param="other"), "unauthorized"),  # added after signing
        (expired, "expired"),
    ]:
        for action in ("open", "consent", "answer"):
            client = Client(alice.http, alice.base, init_data)
            body = {"request_id": "r" * 16, "run": 1, "item": "process", "option": "1"}
            status, answer = await client.post(action, body)
            assert (status, answer["error"]) == (401, error), (init_data[:40], action)
            assert set(answer["messages"]) == {"de", "en"}
    status, _ = await alice.post("open", Authorization="Bearer " + alice.init_data)
    assert status == 401
    assert await counts(web_bot) == before


async def test_wrong_bots_token_is_refused(
    web_bot: WebBot, stand_in: BotApiServer, alice: Client
) -> None:
    other = BotApiServer()
    await other.start()
    try:
        other.add_bot("654321:OTHER-bot-token", username="dteam_test_bot")
        other.add_user(ALICE, "Alice")
        other.set_main_web_app("https://example.org/app/")
        signed_elsewhere = launch_data(other, ALICE)
    finally:
        await other.stop()
    status, answer = await Client(alice.http, alice.base, signed_elsewhere).post("open")
    assert (status, answer["error"]) == (401, "unauthorized")


async def test_forged_answers_are_refused_like_forged_buttons(
    web_bot: WebBot, stand_in: BotApiServer, alice: Client
) -> None:
    status, opened = await alice.post("open")
    assert status == 200
    assert opened["consent"] is False
    status, view = await alice.post("consent", {"request_id": "consent-0001"})
    assert status == 200
    run, first = view["run"]["id"], view["run"]["current"]
    before = await counts(web_bot)
    refusals = [
        {"run": run, "item": first, "option": "9"},  # no such option
        {"run": run, "item": "nosuchitem", "option": "1"},
        {"run": run, "item": first, "option": "x"},  # skip is only for context questions
        {"run": run + 1000, "item": first, "option": "1"},  # no such run
    ]
    for n, body in enumerate(refusals):
        status, answer = await alice.post("answer", {"request_id": f"forged-{n:04d}", **body})
        assert (status, answer["error"]) == (400, "invalid"), body
    # Bob cannot answer (or go back) in Alice's run.
    bob = Client(alice.http, alice.base, launch_data(stand_in, BOB))
    assert (await bob.post("open"))[0] == 200
    body = {"request_id": "bob-00001", "run": run, "item": first, "option": "1"}
    assert (await bob.post("answer", body))[0] == 400
    assert (await bob.post("back", body))[0] == 400
    for malformed in ({"run": run, "item": first, "option": "1"}, {"request_id": "short"}):
        assert (await alice.post("answer", malformed))[0] == 400
    assert (await alice.post("nonsense", {}))[0] == 404
    participants, runs, answers, processed = await counts(web_bot)
    assert (runs, answers, processed) == before[1:]
    assert participants == before[0] + 1  # Bob opened the app: a row, as after /start


async def test_a_repeated_request_writes_once(web_bot: WebBot, alice: Client) -> None:
    await alice.post("open")
    _, view = await alice.post("consent", {"request_id": "consent-0002"})
    run, first = view["run"]["id"], view["run"]["current"]
    body = {"request_id": "answer-0001", "run": run, "item": first, "option": "4"}
    status, once = await alice.post("answer", body)
    assert status == 200
    second = once["run"]["current"]
    assert second != first
    before = await counts(web_bot)
    status, again = await alice.post("answer", body)  # the same request, sent again
    assert status == 200
    assert again["run"]["current"] == second  # where the first one led, not one further
    assert again["answers"] == {first: "4"}
    assert await counts(web_bot) == before


async def test_body_size_is_limited(web_bot: WebBot, alice: Client) -> None:
    before = await counts(web_bot)
    big = {"request_id": "big-000001", "padding": "x" * MAX_BODY}
    status, _ = await alice.post("consent", big)
    assert status == 413
    async with alice.http.post(
        f"{alice.base}/app/api/consent",
        data=b"not json",
        headers={"Authorization": f"tma {alice.init_data}"},
    ) as answer:
        assert answer.status == 400
    assert await counts(web_bot) == before


async def test_a_burst_from_one_user_writes_one_answer(web_bot: WebBot, alice: Client) -> None:
    await alice.post("open")
    _, view = await alice.post("consent", {"request_id": "consent-0003"})
    run, first = view["run"]["id"], view["run"]["current"]
    before = await counts(web_bot)
    burst = [
        alice.post(
            "answer", {"request_id": f"burst-{n:04d}", "run": run, "item": first, "option": "2"}
        )
        for n in range(20)
    ]
    statuses = [status for status, _ in await asyncio.gather(*burst)]
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses
    _, _, answers, _ = await counts(web_bot)
    assert answers == before[2] + 1  # one answer; the rest were stale or refused as busy


async def test_out_of_range_run_ids_get_400_and_write_nothing(
    web_bot: WebBot, alice: Client
) -> None:
    """A run id no database column holds (PostgreSQL's integer ends at 2**31 - 1, SQLite's at
    2**63 - 1) is refused like any forged id, not answered 500 by the database driver."""
    await alice.post("open")
    _, view = await alice.post("consent", {"request_id": "consent-0004"})
    first = view["run"]["current"]
    before = await counts(web_bot)
    for n, run in enumerate((2**31, 2**63 - 1, 2**63, 10**30)):
        for action in ("answer", "back", "switch"):
            body = {"request_id": f"range-{n:04d}", "run": run, "item": first, "option": "1"}
            async with alice.http.post(
                f"{alice.base}/app/api/{action}",
                data=json.dumps(body | {"code": "abc"}),
                headers={"Authorization": f"tma {alice.init_data}"},
            ) as answer:
                assert answer.status == 400, (action, run, await answer.text())
                assert (await answer.json())["error"] == "invalid"
    assert await counts(web_bot) == before


async def test_launch_data_that_is_not_ascii_gets_401(web_bot: WebBot, alice: Client) -> None:
    """Raw bytes in the header (a browser cannot send them; a script can) are refused as
    malformed launch data: aiohttp keeps undecodable bytes as surrogates, and hashing them
    raised UnicodeEncodeError, a 500."""
    before = await counts(web_bot)
    for launch in (
        b"auth_date=1&hash=\xff",
        b"a=\xff&hash=0",
        alice.init_data.encode() + b"&x=\xc3",
    ):
        status, body = await raw_post(
            web_bot, "open", b"Authorization: tma " + launch + b"\r\n", b"{}"
        )
        assert status == 401, (launch, body)
        assert json.loads(body)["error"] == "unauthorized"
    assert await counts(web_bot) == before


async def raw_post(
    bot: WebBot, action: str, *parts: bytes, piece: int | None = None
) -> tuple[int, bytes]:
    """Posts to the API over a bare connection: header lines, then the body (the last part),
    in pieces of `piece` bytes with a pause between them if given (how a slow network
    delivers it). Returns the status and the body of the answer."""
    *headers, body = parts
    host, port = bot.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        f"POST /app/api/{action} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"".join(headers)
        + b"\r\n"
    )
    step = piece or len(body) or 1
    for n in range(0, len(body), step):
        writer.write(body[n : n + step])
        await writer.drain()
        await asyncio.sleep(0.05)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), content


async def test_a_body_arriving_in_pieces_is_read_whole(web_bot: WebBot, alice: Client) -> None:
    """The body was read with one read(), which returns what has arrived so far: a request
    whose body came in two TCP segments was cut short and refused as "not JSON"."""
    await alice.post("open")
    auth = b"Authorization: tma " + alice.init_data.encode() + b"\r\n"
    body = json.dumps({"request_id": "consent-pieces-01"}).encode()
    status, answer = await raw_post(web_bot, "consent", auth, body, piece=16)
    assert status == 200, answer
    assert json.loads(answer)["run"] is not None


async def in_progress_runs(bot: WebBot) -> int:
    db = Database(bot.process.settings.database_url)
    try:
        async with db.read() as session:
            query = select(func.count()).select_from(Run).where(col(Run.status) == "in_progress")
            return (await session.execute(query)).scalar_one()
    finally:
        await db.dispose()


async def test_two_requests_at_once_leave_one_run_in_progress(
    web_bot: WebBot, alice: Client
) -> None:
    """Two requests at once are let through (the third is refused, 429); on PostgreSQL, where
    writes run side by side, two restarts (or consents) each abandoned the runs committed
    before and started one: two runs in progress for one person, both counted as such."""
    await alice.post("open")
    for n in range(10):
        together = [
            alice.post("restart" if n % 2 else "consent", {"request_id": f"both-{n:03d}-{i}"})
            for i in range(2)
        ]
        assert [status for status, _ in await asyncio.gather(*together)] == [200, 200]
        assert await in_progress_runs(web_bot) == 1, n

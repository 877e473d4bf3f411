"""The Mini App opened with another open workshop's link during a run asks, as the chat does,
which workshop the answers count for; the choice goes through the API and is checked there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.database import Database
from storage.models import Answer, Participant, Run, Workshop
from tests.e2e.websession import command, make_group, summary_counts
from tests.web.conftest import BROWSER_LOOP, Watched, WebBot
from tests.web.test_api import Client, counts, http, launch_data
from tests.web.test_miniapp import Shot, answer, current_item, screen
from typology.questionnaire import load_questionnaire

pytestmark = BROWSER_LOOP
__all__ = ["http"]  # the fixture, shared with test_api

ALICE, BOB = 5501, 5502
ALPHA, BETA, GAMMA = (-1501, 951), (-1502, 952), (-1503, 953)  # (group, moderator)
JSON = dict[str, Any]
LINK = "https://t.me/dteam_test_bot?startapp"


@dataclass
class Where:
    """Where a person's latest run is, read straight from the database."""

    run: int
    status: str
    workshop: int | None
    joined: int | None
    answers: dict[str, str]


async def open_workshop(stand_in: BotApiServer, group: tuple[int, int], title: str) -> str:
    """Opens a session in a new group; returns its join code."""
    chat_id, moderator = group
    make_group(stand_in, chat_id, moderator)
    qr = await command(
        stand_in, moderator, chat_id, f"/session {title}", lambda m: m.photo is not None
    )
    match = re.search(r"\?start(?:app)?=([A-Za-z0-9_-]+)$", qr.buttons[0]["url"])
    assert match, qr.buttons
    return match[1]


async def workshop_id(bot: WebBot, code: str) -> int:
    db = Database(bot.process.settings.database_url)
    try:
        async with db.read() as session:
            found = await session.execute(select(Workshop).where(col(Workshop.code) == code))
            workshop = found.scalar_one()
            assert workshop.id is not None
            return workshop.id
    finally:
        await db.dispose()


async def where(bot: WebBot, user: int) -> Where:
    db = Database(bot.process.settings.database_url)
    try:
        async with db.read() as session:
            who = (
                await session.execute(
                    select(Participant).where(col(Participant.telegram_id) == user)
                )
            ).scalar_one()
            run = (
                (
                    await session.execute(
                        select(Run)
                        .where(col(Run.participant_id) == who.id)
                        .order_by(col(Run.id).desc())
                    )
                )
                .scalars()
                .first()
            )
            assert run is not None
            rows = await session.execute(
                select(col(Answer.item_id), col(Answer.option_id)).where(
                    col(Answer.run_id) == run.id
                )
            )
            assert run.id is not None
            return Where(
                run.id, run.status, run.workshop_id, who.joined_workshop_id, dict(rows.all())
            )
    finally:
        await db.dispose()


def client_for(
    stand_in: BotApiServer, http: aiohttp.ClientSession, bot: WebBot, user: int, code: str = ""
) -> Client:
    """The app of user, opened with the link of the workshop of code (none: the bare link)."""
    return Client(http, bot.url, launch_data(stand_in, user, start=code))


async def answer_some(client: Client, view: JSON, items: list[JSON], n: int | None) -> JSON:
    """Answers n questions (None: all) with their first option; returns the last view."""
    options = {it["id"]: it["options"][0]["id"] for it in items}
    done = 0
    while view["run"] is not None and (n is None or done < n):
        run = view["run"]
        body = {"request_id": f"answer-{run['id']}-{run['current']}", "run": run["id"]}
        status, view = await client.post(
            "answer", body | {"item": run["current"], "option": options[run["current"]]}
        )
        assert status == 200, view
        done += 1
    return view


async def started(
    stand_in: BotApiServer,
    http: aiohttp.ClientSession,
    bot: WebBot,
    user: int,
    code: str,
    n: int,
    lang: str = "de",
) -> tuple[JSON, list[JSON]]:
    """Opens the app with code's link, agrees and answers n questions there."""
    stand_in.add_user(user, f"User {user}", language_code=lang)
    app = client_for(stand_in, http, bot, user, code)
    status, opened = await app.post("open")
    assert status == 200, opened
    _, view = await app.post("consent", {"request_id": f"consent-{user}"})
    return await answer_some(app, view, opened["items"], n), opened["items"]


@pytest.fixture
def both(web_bot: WebBot, stand_in: BotApiServer) -> WebBot:
    stand_in.set_main_web_app(f"{web_bot.url}/app/")
    return web_bot


@pytest.mark.bot_settings(privacy_threshold=1)  # exact counts for one person
async def test_switch_moves_the_run_with_its_answers_and_the_chat_agrees(
    both: WebBot, stand_in: BotApiServer, http: aiohttp.ClientSession
) -> None:
    alpha = await open_workshop(stand_in, ALPHA, "Alpha")
    beta = await open_workshop(stand_in, BETA, "Beta & <Co>")  # escaped as a title, not markup
    view, items = await started(stand_in, http, both, ALICE, alpha, 3)
    before = await where(both, ALICE)
    assert before.workshop == before.joined == await workshop_id(both, alpha)
    assert len(before.answers) == 3

    app = client_for(stand_in, http, both, ALICE, beta)
    status, opened = await app.post("open")
    assert status == 200
    offer = opened["switch"]
    assert offer is not None
    assert offer["code"] == beta
    assert offer["text"] == (
        "Sie beantworten gerade den Fragebogen für die Sitzung Alpha (Frage 4 von 15). "
        "Dieser Link gehört zur Sitzung Beta & <Co>. "
        "Für welche Sitzung sollen Ihre Antworten zählen?"
    )
    assert offer["count"] == "✅ Für „Beta & <Co>“ zählen"
    assert offer["stay"] == "▶️ Weiter wie bisher"
    assert opened["run"] == view["run"]
    assert opened["workshop"] == "Alpha"  # the link alone moved nothing
    assert await where(both, ALICE) == before

    switch = {"request_id": "switch-00001", "run": view["run"]["id"], "code": beta}
    status, moved = await app.post("switch", switch)
    assert status == 200, moved
    assert moved["switch"] is None
    assert moved["workshop"] == "Beta & <Co>"
    assert moved["run"] == view["run"]  # the same run, at the same question
    assert moved["answers"] == before.answers
    after = await where(both, ALICE)
    beta_id = await workshop_id(both, beta)
    assert (after.run, after.workshop, after.joined) == (before.run, beta_id, beta_id)
    assert after.answers == before.answers
    written = await counts(both)
    assert (await app.post("switch", switch))[0] == 200  # the same request again
    assert await counts(both) == written
    # A reload with Beta's link: nothing to ask any more.
    assert (await app.post("open"))[1]["switch"] is None

    finished = await answer_some(app, moved, items, None)
    assert finished["result"] is not None
    done = await where(both, ALICE)
    assert (done.status, done.workshop) == ("finished", beta_id)
    # The chat counts her in Beta, once, and not in Alpha.
    post = await command(
        stand_in, BETA[1], BETA[0], "/summary", lambda m: "Das D-Team" in (m.text or "")
    )
    assert sum(summary_counts(post.text or "").values()) == 1
    post = await command(
        stand_in, ALPHA[1], ALPHA[0], "/summary", lambda m: "(bisher 0," in (m.text or "")
    )
    assert "Das D-Team" not in (post.text or "")


async def test_keep_leaves_the_run_where_it_is(
    both: WebBot, stand_in: BotApiServer, http: aiohttp.ClientSession
) -> None:
    alpha = await open_workshop(stand_in, ALPHA, "Alpha")
    beta = await open_workshop(stand_in, BETA, "Beta")
    view, items = await started(stand_in, http, both, ALICE, alpha, 2)
    before = await where(both, ALICE)
    app = client_for(stand_in, http, both, ALICE, beta)
    assert (await app.post("open"))[1]["switch"] is not None
    written = await counts(both)
    status, kept = await app.post("resume")
    assert status == 200
    assert (kept["switch"], kept["workshop"], kept["run"]) == (None, "Alpha", view["run"])
    assert await counts(both) == written
    assert await where(both, ALICE) == before
    nxt = await answer_some(app, kept, items, 1)  # and carries on in Alpha
    assert nxt["workshop"] == "Alpha"
    assert (await where(both, ALICE)).workshop == before.workshop


async def test_a_solo_run_is_asked_about_too(
    both: WebBot, stand_in: BotApiServer, http: aiohttp.ClientSession
) -> None:
    beta = await open_workshop(stand_in, BETA, "Beta")
    view, _ = await started(stand_in, http, both, BOB, "", 1, lang="en")
    assert (await where(both, BOB)).workshop is None
    app = client_for(stand_in, http, both, BOB, beta)
    offer = (await app.post("open"))[1]["switch"]
    assert offer["text"] == (
        "You are answering the questionnaire on your own (question 2 of 15). This link belongs "
        "to the session Beta. Should your answers count for this session?"
    )
    assert (offer["count"], offer["stay"]) == ("✅ Count for “Beta”", "▶️ Carry on as before")
    body = {"request_id": "switch-solo1", "run": view["run"]["id"], "code": beta}
    status, moved = await app.post("switch", body)
    assert (status, moved["workshop"]) == (200, "Beta")
    assert (await where(both, BOB)).workshop == await workshop_id(both, beta)


async def test_forged_closed_and_runless_switches_change_nothing(
    both: WebBot, stand_in: BotApiServer, http: aiohttp.ClientSession
) -> None:
    alpha = await open_workshop(stand_in, ALPHA, "Alpha")
    beta = await open_workshop(stand_in, BETA, "Beta")
    gamma = await open_workshop(stand_in, GAMMA, "Gamma")
    view, _ = await started(stand_in, http, both, ALICE, alpha, 2)
    run = view["run"]["id"]
    before, written = await where(both, ALICE), await counts(both)
    app = client_for(stand_in, http, both, ALICE, beta)
    assert (await app.post("open"))[1]["switch"] is not None
    stand_in.add_user(BOB, "Bob", language_code="de")
    bob = client_for(stand_in, http, both, BOB, beta)
    assert (await bob.post("open"))[0] == 200  # a participant row, no run
    written = await counts(both)
    refused = [
        (app, {"run": run, "code": gamma}),  # open, but not the link the app was opened with
        (
            client_for(stand_in, http, both, ALICE, "nosuchcode1"),
            {"run": run, "code": "nosuchcode1"},
        ),
        (app, {"run": run + 1000, "code": beta}),  # not her run
        (app, {"run": run, "code": "<script>"}),
        (bob, {"run": run, "code": beta}),  # Bob has no run in progress; this one is Alice's
    ]
    for n, (client, body) in enumerate(refused):
        status, answer = await client.post("switch", {"request_id": f"forged-{n:04d}", **body})
        assert (status, answer["error"]) == (400, "invalid"), body
    assert await counts(both) == written
    assert await where(both, ALICE) == before

    # Beta closes while the question is on screen: a clear notice, the run stays in Alpha.
    await command(
        stand_in, BETA[1], BETA[0], "/close", lambda m: "Neue Antworten" in (m.text or "")
    )
    body = {"request_id": "switch-late1", "run": run, "code": beta}
    status, late = await app.post("switch", body)
    assert status == 200
    assert late["notice"].startswith("Die Sitzung Beta ist bereits geschlossen.")
    assert (late["switch"], late["workshop"], late["run"]) == (None, "Alpha", view["run"])
    assert await where(both, ALICE) == before
    # Opened again with the closed link: today's notice, nothing to ask.
    status, opened = await app.post("open")
    assert (opened["switch"], opened["notice"]) == (None, late["notice"])
    assert await where(both, ALICE) == before


async def test_the_app_asks_and_goes_on_in_the_chosen_workshop(
    both: WebBot, stand_in: BotApiServer, phone: Watched, screenshot: Shot
) -> None:
    alpha = await open_workshop(stand_in, ALPHA, "Alpha")
    beta = await open_workshop(stand_in, BETA, "Beta")
    stand_in.add_user(ALICE, "Alice", language_code="de")
    ids = [it.id for it in load_questionnaire().items]
    page = phone.page
    await page.goto(stand_in.open_web_app(ALICE, link=f"{LINK}={alpha}"))
    await page.locator("#consent").click()
    assert await answer(page, 0) == ids[1]
    assert await answer(page, 1) == ids[2]

    # "Carry on as before": the question, still counting for Alpha.
    await page.goto(stand_in.open_web_app(ALICE, link=f"{LINK}={beta}"))
    await page.locator("#switch-stay").click()
    assert await current_item(page) == ids[2]
    assert (await where(both, ALICE)).workshop == await workshop_id(both, alpha)

    await page.goto("about:blank")  # else only the hash changes and the page stays
    await page.goto(stand_in.open_web_app(ALICE, link=f"{LINK}={beta}"))
    count = page.locator("#switch-count")
    await count.wait_for()
    assert await screen(page) == "switch"
    heading = page.locator("h1#heading")
    assert await page.evaluate("document.activeElement.id") == "heading"  # read out first
    text = await heading.inner_text()
    assert "Sitzung Alpha (Frage 3 von 15)" in text
    assert "Dieser Link gehört zur Sitzung Beta." in text
    assert await count.inner_text() == "✅ Für „Beta“ zählen"
    assert await page.locator("#switch-stay").inner_text() == "▶️ Weiter wie bisher"
    await screenshot(page, "miniapp-switch-phone")

    await count.click()
    assert await current_item(page) == ids[2]  # where she was, answers kept
    assert await page.locator("#progress").inner_text() == "Frage 3 von 15"
    assert await page.evaluate("document.activeElement.id") == "heading"
    await page.locator("#back").click()
    await page.locator(f'h1#heading[data-item="{ids[1]}"]').wait_for()
    assert await page.locator(".option[aria-pressed=true]").get_attribute("data-option") == "2"
    assert await answer(page, 1) == ids[2]
    assert await answer(page, 2) == ids[3]
    now = await where(both, ALICE)
    assert now.workshop == now.joined == await workshop_id(both, beta)
    assert now.answers == {ids[0]: "1", ids[1]: "2", ids[2]: "3"}
    assert phone.errors == []

"""The questionnaire as a Mini App in a real browser: the real bot, the stand-in, Chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
import pytest
from playwright.async_api import Page
from sqlalchemy import select
from sqlmodel import col

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.database import Database
from storage.models import Answer, Result, Run
from tests.e2e.harness import answer_buttons, progress
from tests.e2e.websession import make_group, summary_counts, wait_live
from tests.web.conftest import BROWSER_LOOP, Watched, WebBot
from typology.questionnaire import load_questionnaire

pytestmark = BROWSER_LOOP

USER = 5101
Shot = Callable[[Page, str], Awaitable[Path]]
TYPE_NAMES = {
    "bedaechtige": "Die Bedächtigen",
    "optimierer": "Die Optimierer",
    "serviceorientierte": "Die Serviceorientierten",
    "community": "Die Community Manager",
}


async def welcome(stand_in: BotApiServer, user: int, text: str = "/start") -> StoredMessage:
    mark = stand_in.mark()
    stand_in.send_text(user, text)
    return await stand_in.wait_for(
        lambda m: any("web_app" in b for b in m.buttons), 20, chat_id=user, since=mark
    )


async def current_item(page: Page) -> str:
    heading = page.locator("h1#heading[data-item]")
    await heading.wait_for()
    return str(await heading.get_attribute("data-item"))


async def answer(page: Page, option_index: int) -> str:
    """Clicks an option of the question shown; returns the id of the question after it."""
    before = await current_item(page)
    await page.locator(".option").nth(option_index).click()
    # Locators, not wait_for_function: that evaluates strings, which the page's CSP forbids.
    await page.locator(
        f'h1#heading[data-item]:not([data-item="{before}"]), body[data-screen="result"]'
    ).first.wait_for()
    return await current_item(page) if await screen(page) == "question" else "result"


async def screen(page: Page) -> str:
    text = await page.locator("main").inner_text()
    assert "null" not in text, text  # a part the script skipped, shown as text
    assert "undefined" not in text, text
    return str(await page.evaluate("document.body.dataset.screen || ''"))


async def stored(bot: WebBot, user: int) -> tuple[list[Run], dict[str, str], list[Result]]:
    db = Database(bot.process.settings.database_url)
    try:
        async with db.read() as session:
            runs = list((await session.execute(select(Run).order_by(col(Run.id)))).scalars())
            mine = [r for r in runs if r.participant_id is not None]
            last = mine[-1].id if mine else -1
            rows = await session.execute(
                select(col(Answer.item_id), col(Answer.option_id)).where(
                    col(Answer.run_id) == last
                )
            )
            results = list((await session.execute(select(Result))).scalars())
            return mine, dict(rows.all()), results
    finally:
        await db.dispose()


async def test_answer_back_change_reload_and_result(
    web_bot: WebBot, stand_in: BotApiServer, phone: Watched, screenshot: Shot
) -> None:
    stand_in.add_user(USER, "Erika", language_code="de")
    start = await welcome(stand_in, USER)
    assert start.buttons[0]["web_app"]["url"] == f"{web_bot.url}/app/"
    url = stand_in.open_web_app(USER, start.message_id)
    page = phone.page
    await page.goto(url)

    await page.locator("#consent").click()
    q = load_questionnaire()
    ids = [it.id for it in q.items]
    assert await current_item(page) == ids[0]
    assert await page.locator("#progress").inner_text() == f"Frage 1 von {len(ids)}"
    await screenshot(page, "miniapp-question-phone")
    box = await page.locator(".option").first.bounding_box()
    assert box is not None
    assert box["height"] >= 48  # a tap target a thumb hits
    assert box["width"] >= 300

    assert await answer(page, 0) == ids[1]
    assert await answer(page, 1) == ids[2]
    assert await answer(page, 2) == ids[3]
    # Back, and the answer given is marked; change it.
    await page.locator("#back").click()
    await page.locator(f'h1#heading[data-item="{ids[2]}"]').wait_for()
    assert await page.locator(".option[aria-pressed=true]").get_attribute("data-option") == "3"
    assert await answer(page, 4) == ids[3]

    # Reload mid-way: the page resumes where the server says the run is.
    await page.reload()
    assert await current_item(page) == ids[3]
    assert await page.locator("#progress").inner_text() == f"Frage 4 von {len(ids)}"

    # The keyboard works too: key 4 picks the fourth option.
    await page.locator("h1#heading").focus()
    await page.keyboard.press("4")
    await page.locator(f'h1#heading[data-item="{ids[4]}"]').wait_for()
    while await screen(page) == "question":
        await answer(page, 0)

    assert await screen(page) == "result"
    shown_type = await page.locator("#type").get_attribute("data-type")
    await page.locator("#sent").wait_for()
    await screenshot(page, "miniapp-result-phone")

    runs, answers, results = await stored(web_bot, USER)
    assert [r.status for r in runs] == ["finished"]
    assert answers[ids[0]] == "1"
    assert answers[ids[1]] == "2"
    assert answers[ids[2]] == "5"  # changed after going back
    assert answers[ids[3]] == "4"  # given with the keyboard
    assert len(answers) == len(ids)
    assert [r.main_type for r in results] == [shown_type]
    # The chat gets the usual result: text, chart and profile card.
    name = TYPE_NAMES[str(shown_type)]
    chart = await stand_in.wait_for(lambda m: m.photo is not None, 20, chat_id=USER)
    assert name in (chart.caption or "")
    card = await stand_in.wait_for(
        lambda m: (m.text or "").startswith("Steckbrief:"), 20, chat_id=USER
    )
    assert name in (card.text or "")
    assert any((m.text or "").startswith("Vielen Dank!") for m in stand_in.messages(USER))
    # Four messages in all: the welcome, then the result, chart and card.
    sent = [c.method for c in stand_in.calls if c.chat_id == USER and _rate_limited(c.method)]
    assert len(sent) == 4, sent
    assert phone.errors == []


async def test_refused_launch_data_shows_why_and_writes_nothing(
    web_bot: WebBot, stand_in: BotApiServer, phone: Watched
) -> None:
    stand_in.add_user(USER, "Erika", language_code="de")
    start = await welcome(stand_in, USER)
    page = phone.page
    runs_before = await stored(web_bot, USER)
    # Forged: someone else's user id in the signed data.
    url = stand_in.open_web_app(USER, start.message_id)
    base, fragment = url.split("#", 1)
    launch = dict(parse_qsl(fragment))
    fields = dict(parse_qsl(launch["tgWebAppData"]))
    fields["user"] = fields["user"].replace(f'"id":{USER}', '"id":5102')
    launch["tgWebAppData"] = urlencode(fields, quote_via=quote)
    await page.goto(base + "#" + urlencode(launch, quote_via=quote))
    error = page.locator("h1.error")
    await error.wait_for()
    assert "nur in Telegram" in await error.inner_text()
    # Expired: signed correctly, but older than DTEAM_WEBAPP_MAX_AGE.
    old = stand_in.open_web_app(USER, start.message_id, auth_date=int(time.time()) - 90_000)
    await page.goto("about:blank")
    await page.goto(old)
    await page.locator("h1.error").wait_for()
    assert "abgelaufen" in await page.locator("h1.error").inner_text()
    assert await stored(web_bot, USER) == runs_before
    # The browser reports the 401s as failed loads; nothing else went wrong.
    assert all("401" in e for e in phone.errors), phone.errors


@pytest.mark.bot_settings(privacy_threshold=1)  # exact counts for four people
async def test_session_link_opens_the_app_and_both_flows_count(
    web_bot: WebBot, stand_in: BotApiServer, phone: Watched, screenshot: Shot
) -> None:
    group, moderator = -1005, 901
    make_group(stand_in, group, moderator)
    stand_in.set_main_web_app(f"{web_bot.url}/app/")  # what BotFather's Main Mini App sets
    mark = stand_in.mark()
    stand_in.send_text(moderator, "/session Mini App", chat_id=group)
    qr = await stand_in.wait_for(lambda m: m.photo is not None, 20, chat_id=group, since=mark)
    link = qr.buttons[0]["url"]
    chat_link = qr.buttons[1]["url"]
    match = re.search(r"\?startapp=([A-Za-z0-9_-]+)$", link)
    assert match, link
    code = match[1]
    assert chat_link.endswith(f"?start={code}")
    await wait_live(stand_in, group, "Beigetreten: 0")

    # Three people in the app (from the link, never having written to the bot) ...
    page = phone.page
    for uid in (5201, 5202, 5203):
        stand_in.add_user(uid, f"App {uid}", language_code="de")
        await page.goto(stand_in.open_web_app(uid, link=link))
        await page.locator("#consent").click()
        assert await page.locator(".workshop, #heading").count() >= 1
        while await screen(page) != "result":
            await answer(page, uid % 3)
        await page.goto("about:blank")
    # ... and one in the chat, the same session.
    chat_person = 5204
    stand_in.add_user(chat_person, "Chat", language_code="de")
    start = await welcome(stand_in, chat_person, f"/start {code}")
    consent = next(b for b in start.buttons if str(b.get("callback_data", "")).startswith("c"))
    mark = stand_in.mark()
    stand_in.press_button(chat_person, start.message_id, consent["callback_data"])
    question = await stand_in.wait_for(
        lambda m: bool(progress(m) and answer_buttons(m)), 20, chat_id=chat_person, since=mark
    )
    while question is not None:
        mark = stand_in.mark()
        stand_in.press_button(
            chat_person, question.message_id, answer_buttons(question)[0]["callback_data"]
        )
        question = await stand_in.wait_for(
            lambda m: (
                bool(progress(m) and answer_buttons(m)) or (m.text or "").startswith("Steckbrief:")
            ),
            20,
            chat_id=chat_person,
            since=mark,
        )
        if (question.text or "").startswith("Steckbrief:"):
            break
    text = await wait_live(stand_in, group, "Fertig: 4")
    assert "Beigetreten: 4" in text
    mark = stand_in.mark()
    stand_in.send_text(moderator, "/summary", chat_id=group)
    post = await stand_in.wait_for(
        lambda m: "Das D-Team" in (m.text or ""), 20, chat_id=group, since=mark
    )
    _, _, results = await stored(web_bot, 0)
    counts = summary_counts(post.text or "")
    assert sum(counts.values()) == 4
    assert {t: n for t, n in counts.items() if n} == _tally([r.main_type for r in results])
    # The budget: an app participant who came by the link costs Telegram three messages
    # (result, chart, card); a chat participant 19: the welcome, the first question in its
    # place, 14 edits to the next question, and the same three. /metrics counts per person.
    for uid in (5201, 5202, 5203):
        sent = [c for c in stand_in.calls if c.chat_id == uid and _rate_limited(c.method)]
        assert len(sent) == 3, [c.method for c in sent]
    chat_calls = [
        c for c in stand_in.calls if c.chat_id == chat_person and _rate_limited(c.method)
    ]
    assert len(chat_calls) == 19, [c.method for c in chat_calls]
    async with aiohttp.ClientSession() as http, http.get(f"{web_bot.url}/metrics") as reply:
        metrics = dict(
            line.split(" ", 1) for line in (await reply.text()).splitlines() if line[:1] != "#"
        )
    assert int(metrics["dteam_private_chats_messaged"]) == 4
    assert int(metrics["dteam_private_messages_total"]) == 9 + len(chat_calls)
    per_person = float(metrics["dteam_private_messages_per_participant"])
    assert per_person == pytest.approx((9 + len(chat_calls)) / 4, abs=0.001)


def _rate_limited(method: str) -> bool:
    return method.lower().startswith(("send", "edit", "copy", "forward"))


def _tally(types: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in types:
        out[t] = out.get(t, 0) + 1
    return out


async def test_english_and_the_language_switch(
    web_bot: WebBot, stand_in: BotApiServer, phone: Watched, screenshot: Shot
) -> None:
    stand_in.set_main_web_app(f"{web_bot.url}/app/")
    stand_in.add_user(5401, "Ann", language_code="en")
    page = phone.page
    await page.goto(stand_in.open_web_app(5401, link="https://t.me/dteam_test_bot?startapp"))
    consent = page.locator("#consent")
    await consent.wait_for()
    assert "agree" in (await consent.inner_text()).lower()
    assert await page.evaluate("document.documentElement.lang") == "en"
    await screenshot(page, "miniapp-welcome-phone")
    await page.locator("#language").click()
    await page.locator("html[lang=de] #consent").wait_for()
    assert "Einverstanden" in await page.locator("#consent").inner_text()
    await page.locator("#language").click()
    await page.locator("html[lang=en] #consent").click()
    await current_item(page)
    assert (await page.locator("#progress").inner_text()).startswith("Question 1 of")
    assert await answer(page, 0) != "result"
    assert await page.locator("#back").inner_text() == "‹ Back"
    assert phone.errors == []

"""The journey under stress: restarts, back, double taps, stale and forged buttons, garbage."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import func, select

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from sandbox.state import CallRecord
from storage.models import Answer, Participant, Run
from tests.e2e.harness import BotProcess, Person, answer_buttons, make_settings, progress
from tests.e2e.test_journey import stored_answers
from tests.support.database import opened, reading


async def _count(bot: BotProcess, table: type) -> int:
    async with reading(bot.settings.database_url) as s:
        return (await s.execute(select(func.count()).select_from(table))).scalar_one()


def _shown_calls(sandbox: BotApiServer) -> list[CallRecord]:
    return sandbox.calls_to("editMessageText") + sandbox.calls_to("sendMessage")


async def _answer_n(person: Person, question, n: int):  # type: ignore[no-untyped-def]
    """Answers n questions with the option at index 1; returns the next question shown."""
    current = question
    for _ in range(n):
        buttons = answer_buttons(current)
        data = buttons[1]["callback_data"]
        _, _, item, option = data.split(":")
        person.pressed[item] = option
        before = progress(current)

        def moved(m: StoredMessage, b: tuple[int, int] | None = before) -> bool:
            return progress(m) is not None and progress(m) != b

        current = await person.press_and_wait(current, data, moved)
    return current


async def test_resume_after_restart_loses_nothing(sandbox: BotApiServer, bot: BotProcess) -> None:
    eve = Person(sandbox, 2001, "Eve")
    q = await eve.join()
    q = await _answer_n(eve, q, 5)
    assert progress(q) == (6, 15)
    await bot.stop()
    restarted = BotProcess(sandbox, bot.settings)
    await restarted.start()
    try:
        offer = await eve.say("/start")
        assert "Frage 6 von 15" in (offer.text or "")
        resume = next(b for b in offer.buttons if b["callback_data"].startswith("r:"))
        q = await eve.press_and_wait(
            offer, resume["callback_data"], lambda m: progress(m) == (6, 15)
        )
        await eve.answer_all(q)
        assert await stored_answers(restarted, eve.user_id) == eve.pressed
    finally:
        await restarted.stop()


async def test_back_and_change_an_earlier_answer(sandbox: BotApiServer, bot: BotProcess) -> None:
    kim = Person(sandbox, 2002, "Kim")
    q = await _answer_n(kim, await kim.join(), 3)
    back = next(b for b in q.buttons if b["callback_data"].startswith("b:"))
    q3 = await kim.press_and_wait(q, back["callback_data"], lambda m: progress(m) == (3, 15))
    ticked = [b["text"] for b in answer_buttons(q3) if b["text"].startswith("✓")]
    assert len(ticked) == 1
    new = answer_buttons(q3)[4]["callback_data"]
    kim.pressed[new.split(":")[2]] = new.split(":")[3]
    q4 = await kim.press_and_wait(q3, new, lambda m: progress(m) == (4, 15))
    await kim.answer_all(q4)
    assert await stored_answers(bot, kim.user_id) == kim.pressed


async def test_double_tap_and_stale_button_are_harmless(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    tom = Person(sandbox, 2003, "Tom")
    q1 = await tom.join()
    data = answer_buttons(q1)[2]["callback_data"]
    stale = answer_buttons(q1)[0]["callback_data"]  # q1's message is edited in place later
    first = sandbox.press_button(tom.user_id, q1.message_id, data)
    second = sandbox.press_button(tom.user_id, q1.message_id, data, check=False)
    await sandbox.wait_for_answer(first)
    answer = await sandbox.wait_for_answer(second)
    assert "gespeichert" in str(answer.get("text", ""))
    q2 = await sandbox.wait_for(lambda m: progress(m) == (2, 15), 10, chat_id=tom.user_id)
    assert tom.question() == q2  # one question shown: the double tap did not skip one
    # A button of question 1 pressed again later (stale keyboard) changes nothing either.
    query = sandbox.press_button(tom.user_id, q1.message_id, stale, check=False)
    await sandbox.wait_for_answer(query)
    tom.pressed = {data.split(":")[2]: data.split(":")[3]}
    assert await stored_answers(bot, tom.user_id) == tom.pressed


async def test_forged_and_oversized_callbacks_are_refused(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    mia, mallory = Person(sandbox, 2004, "Mia"), Person(sandbox, 2005, "Mallory")
    q_mia = await mia.join()
    q_mal = await mallory.join()
    run_of_mia = answer_buttons(q_mia)[0]["callback_data"].split(":")[1]
    forged = [
        f"a:{run_of_mia}:g01:5",  # someone else's run
        "a:1:g01:99",  # unknown option
        "a:x:g01:5",  # not a number
        "zz:1:2",  # unknown prefix
        "a:" + "9" * 70,  # oversized
        "",
    ]
    for data in forged:
        query = sandbox.press_button(mallory.user_id, q_mal.message_id, data, check=False)
        await sandbox.wait_for_answer(query)
    assert await stored_answers(bot, mia.user_id) == {}
    assert await stored_answers(bot, mallory.user_id) == {}
    still = mallory.question()
    assert still is not None
    assert progress(still) == (1, 15)


async def test_garbage_input_gets_polite_answers(sandbox: BotApiServer, bot: BotProcess) -> None:
    joe = Person(sandbox, 2006, "Joe")
    q = await joe.join()
    hint = await joe.say("Ich tippe einfach etwas")
    assert "Schaltflächen" in (hint.text or "")
    unknown = await joe.say("/frobnicate now")
    assert "/help" in (unknown.text or "")
    mark = sandbox.mark()
    sandbox.send_sticker(joe.user_id)
    sticker_reply = await sandbox.wait_for(lambda m: True, 10, chat_id=joe.user_id, since=mark)
    assert "Schaltflächen" in (sticker_reply.text or "")
    mark = sandbox.mark()
    sent = sandbox.send_text(joe.user_id, "hello")
    await sandbox.wait_for(lambda m: True, 10, chat_id=joe.user_id, since=mark)
    sandbox.edit_text(joe.user_id, sent["message"]["message_id"], "edited")  # ignored
    help_msg = await joe.say("/help")
    assert "/delete_me" in (help_msg.text or "")
    huge = await joe.say("x" * 4000)
    assert "Schaltflächen" in (huge.text or "")
    await joe.answer_all(q)  # the questionnaire still works after all of that
    assert await stored_answers(bot, joe.user_id) == joe.pressed


async def test_delete_me_removes_everything(sandbox: BotApiServer, bot: BotProcess) -> None:
    ann = Person(sandbox, 2007, "Ann")
    await ann.answer_all(await ann.join())
    assert await _count(bot, Answer) > 0
    confirm = await ann.say("/delete_me")
    yes = next(b for b in confirm.buttons if b["callback_data"] == "d:yes")
    done = await ann.press_and_wait(
        confirm, yes["callback_data"], lambda m: "gelöscht" in (m.text or "")
    )
    assert "gelöscht" in (done.text or "")
    for table in (Participant, Run, Answer):
        assert await _count(bot, table) == 0


async def test_user_who_blocked_the_bot_is_marked_and_left_alone(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    lea = Person(sandbox, 2008, "Lea")
    q = await lea.join()
    sandbox.block_bot(lea.user_id)
    data = answer_buttons(q)[0]["callback_data"]
    query = sandbox.press_button(lea.user_id, q.message_id, data)
    await sandbox.wait_for_answer(query)
    async with opened(bot.settings.database_url) as db:
        for _ in range(100):
            async with db.read() as s:
                person = (await s.execute(select(Participant))).scalar_one()
            if person.blocked_at is not None:
                break
            await asyncio.sleep(0.05)
    assert person.blocked_at is not None
    assert await stored_answers(bot, lea.user_id) == {data.split(":")[2]: data.split(":")[3]}


async def _crowd(sandbox: BotApiServer, n: int, first_id: int) -> list[Person]:
    people = [Person(sandbox, first_id + i, f"P{i}") for i in range(n)]
    rng = random.Random(7)

    def choose(_item: str, buttons: list[dict[str, str]]) -> dict[str, str]:
        return rng.choice(buttons)

    async def one(person: Person) -> None:
        await person.answer_all(await person.join(), choose)

    await asyncio.gather(*(one(p) for p in people))
    return people


async def test_fifty_concurrent_participants_all_finish(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    people = await _crowd(sandbox, 50, 3000)
    for person in people:
        assert await stored_answers(bot, person.user_id) == person.pressed
    assert await _count(bot, Run) == 50


async def test_429_storm_every_participant_still_finishes(
    sandbox: BotApiServer, database_url: str
) -> None:
    sandbox.inject_fault(["sendMessage", "editMessageText", "sendPhoto"], status=429, rate=0.1)
    bot = BotProcess(sandbox, make_settings(sandbox.root, database_url, max_retries=10))
    await bot.start()
    try:
        people = await _crowd(sandbox, 10, 4000)
        for person in people:
            assert await stored_answers(bot, person.user_id) == person.pressed
        assert sandbox.stats()["status_429"] > 0
    finally:
        await bot.stop()


async def test_result_not_shown_after_a_failure_is_shown_on_the_next_tap(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    """The last answer is stored, then Telegram fails; tapping again shows the result once."""
    uma = Person(sandbox, 2009, "Uma")
    q = await _answer_n(uma, await uma.join(), 14)
    assert progress(q) == (15, 15)
    last = answer_buttons(q)[0]["callback_data"]
    sandbox.inject_fault(["editMessageText", "sendMessage"], status=502, count=30)
    query = sandbox.press_button(uma.user_id, q.message_id, last)
    await sandbox.wait_for_answer(query)
    for _ in range(200):  # until Telegram has refused the result (not a fixed sleep: CI is slow)
        if any(c.status == 502 and c.chat_id == uma.user_id for c in _shown_calls(sandbox)):
            break
        await asyncio.sleep(0.05)
    sandbox.clear_faults()
    assert not any((m.text or "").startswith("Steckbrief") for m in sandbox.messages(uma.user_id))
    card = await uma.press_and_wait(q, last, lambda m: (m.text or "").startswith("Steckbrief"))
    assert "Stärken" in (card.text or "")
    again = sandbox.press_button(uma.user_id, q.message_id, last, check=False)
    await sandbox.wait_for_answer(again)
    await asyncio.sleep(0.3)
    cards = [m for m in sandbox.messages(uma.user_id) if (m.text or "").startswith("Steckbrief")]
    assert len(cards) == 1
    assert await _count(bot, Run) == 1


async def test_a_lost_chart_does_not_cost_the_profile_card(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    """Telegram fails the chart's upload: the result and the card still arrive, no tap needed."""
    ida = Person(sandbox, 2010, "Ida")
    q = await _answer_n(ida, await ida.join(), 14)
    last = answer_buttons(q)[0]["callback_data"]
    sandbox.inject_fault(["sendPhoto"], status=500, count=1, chat_id=ida.user_id)
    card = await ida.press_and_wait(q, last, lambda m: (m.text or "").startswith("Steckbrief"))
    assert "Stärken" in (card.text or "")
    assert not any(m.photo is not None for m in sandbox.messages(ida.user_id))
    assert sandbox.stats()["status_500"] == 1
    assert len(await stored_answers(bot, ida.user_id)) == 15


async def test_a_press_on_an_inaccessible_message_is_answered(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    # Telegram sends a press on a message the bot can no longer access (deleted, or too old)
    # with date 0 and only the chat and id: no sender, no text. It is still a press to answer.
    ida = Person(sandbox, 2010, "Ida")
    q1 = await ida.join()
    data = answer_buttons(q1)[1]["callback_data"]
    gone = q1.message_id + 10_000  # a message id the stand-in has no message for
    query = sandbox.press_button(ida.user_id, gone, data, check=False)
    await sandbox.wait_for_answer(query, timeout=10)
    # Answering it on an unknown message stores it for the run, as the button says.
    _, _, item, option = data.split(":")
    assert await stored_answers(bot, ida.user_id) == {item: option}

"""Simulated participants against a real PTB Application running a tiny questionnaire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from sandbox.participants import SimulatedParticipant
from sandbox.server import BotApiServer
from tests.sandbox.conftest import TOKEN

QUESTIONS = ["Wie planen Sie?", "Wie entscheiden Sie?", "Wie arbeiten Sie?"]
ANSWERS: dict[int, list[str]] = {}


def question(n: int) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [InlineKeyboardButton(o, callback_data=f"q:{n}:{o}") for o in ("a", "b", "c")]
    return f"Frage {n + 1} von {len(QUESTIONS)}: {QUESTIONS[n]}", InlineKeyboardMarkup([buttons])


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets and asks the first question."""
    assert update.effective_user is not None
    assert update.effective_message is not None
    ANSWERS[update.effective_user.id] = []
    text, markup = question(0)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stores the answer, then edits in the next question or sends the result."""
    query = update.callback_query
    assert query is not None
    assert query.data is not None
    assert update.effective_user is not None
    await query.answer()
    _, n, option = query.data.split(":")
    ANSWERS[update.effective_user.id].append(option)
    if int(n) + 1 < len(QUESTIONS):
        text, markup = question(int(n) + 1)
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await query.edit_message_text("Danke!")
        await context.bot.send_message(update.effective_user.id, "Ihr Ergebnis: Optimierer")


@pytest.fixture
async def app(server: BotApiServer) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{server.root}/bot")
        .base_file_url(f"{server.root}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(CommandHandler("start", cmd_start))
    application.add_handler(CallbackQueryHandler(on_answer, pattern=r"^q:"))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        await application.start()
        yield application
        await application.updater.stop()
        await application.stop()


async def test_participants_click_through(server: BotApiServer, app: Application) -> None:  # type: ignore[type-arg]
    people = [
        SimulatedParticipant(server, 5000 + n, f"P{n}", think_time=(0.0, 0.02)) for n in range(20)
    ]

    async def run(person: SimulatedParticipant) -> list[str]:
        await person.start()
        index = person.user_id % 3
        pressed = await person.answer_all(
            lambda _message, buttons: buttons[index],
            final=lambda m: "Ergebnis" in m.body,
        )
        return [p.callback_data.rsplit(":", 1)[1] for p in pressed]

    results = await asyncio.gather(*(run(p) for p in people))
    for person, chosen in zip(people, results, strict=True):
        assert chosen == ANSWERS[person.user_id]
        assert len(chosen) == len(QUESTIONS)
        assert server.last_message(person.user_id).text == "Ihr Ergebnis: Optimierer"  # type: ignore[union-attr]
        for press in person.pressed:
            assert server.callback_answer(press.query_id) is not None


async def test_press_by_text_and_quiet_end(server: BotApiServer, app: Application) -> None:  # type: ignore[type-arg]
    person = SimulatedParticipant(server, 7000, "Solo")
    await person.start()
    message = await person.wait_for_keyboard()
    assert message.text is not None
    assert message.text.startswith("Frage 1 von 3")
    await person.press("b")
    await person.answer_all(lambda _message, buttons: buttons[0])
    assert ANSWERS[7000] == ["b", "a", "a"]
    with pytest.raises(LookupError):
        await person.press("z", message=message)


async def test_raw_press_answer_and_wait(server: BotApiServer, app: Application) -> None:  # type: ignore[type-arg]
    """press_data presses a button by its data; wait_for and wait_for_answer follow it."""
    person = SimulatedParticipant(server, 7100, "Raw")
    await person.start()
    first = await person.wait_for_keyboard()
    assert person.find_keyboard() == first
    press = await person.press_data(first, "q:0:c")
    assert press.button_text == "c"
    await person.wait_for_answer(press)
    second = await person.wait_for(lambda m: (m.text or "").startswith("Frage 2"))
    assert second.message_id == first.message_id  # the question is edited in place
    with pytest.raises(ValueError, match="no button"):  # the stand-in refuses what is not shown
        await person.press_data(second, "q:1:x")
    await person.wait_for_answer(await person.press_data(second, "q:1:a"))
    await person.wait_for(lambda m: (m.text or "").startswith("Frage 3"))
    assert ANSWERS[7100] == ["c", "a"]
    with pytest.raises(TimeoutError):
        await person.wait_for(lambda m: "Ergebnis" in m.body, 0.2, since=first.seq)

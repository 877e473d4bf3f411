"""sendMessage, edits, callback answers and keyboards through a real PTB Bot."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from sandbox.server import BotApiServer
from tests.sandbox.conftest import USER


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d)] for d in data])


async def test_send_message_ids_increase_per_chat(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    first = await bot.send_message(USER, "Hallo")
    second = await bot.send_message(USER, "Frage 1 von 12", reply_markup=keyboard("a", "b"))
    assert second.message_id == first.message_id + 1
    assert first.message_id == 2  # the user's /start was message 1
    stored = server.last_message(USER)
    assert stored is not None
    assert stored.text == "Frage 1 von 12"
    assert [b["callback_data"] for b in stored.buttons] == ["a", "b"]
    assert second.reply_markup == keyboard("a", "b")


async def test_text_limits(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, "")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "x" * 4097)
    sent = await bot.send_message(USER, "x" * 4096)
    assert len(sent.text or "") == 4096


async def test_html_parsing(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "<b>Typ</b> &amp; mehr", parse_mode="HTML")
    assert sent.text == "Typ & mehr"
    assert sent.entities[0].type == "bold"
    assert (sent.entities[0].offset, sent.entities[0].length) == (0, 3)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, "<b>offen", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, "<x>nein</x>", parse_mode="HTML")


async def test_unknown_chat_and_no_conversation(server: BotApiServer, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "hi")
    server.add_group(-100, "Workshop")
    server.set_member(-100, bot.id, "member")
    server.send_text(USER, "/start@dteam_bot", chat_id=-100)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(USER, "hi")


async def test_edit_not_found_and_not_modified(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Frage", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Frage", USER, sent.message_id, reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Neu", USER, 999)
    edited = await bot.edit_message_text("Frage (beantwortet)", USER, sent.message_id)
    assert isinstance(edited, type(sent))
    stored = server.messages(USER)[-1]
    assert stored.text == "Frage (beantwortet)"
    assert stored.edit_count == 1
    assert not stored.has_keyboard  # an edit without reply_markup removes the keyboard
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id)


async def test_callback_data_too_long(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "Frage", reply_markup=markup)
    assert server.calls_to("sendMessage")[-1].status == 400


async def test_answer_callback_query_once(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Frage", reply_markup=keyboard("a", "b"))
    query_id = server.press_button(USER, sent.message_id, "b")
    updates = await bot.get_updates()
    query = updates[-1].callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "b"
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Gespeichert")
    assert server.callback_answer(query_id) == {
        "text": "Gespeichert",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)


async def test_press_button_checks_the_keyboard(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Frage", reply_markup=keyboard("a"))
    with pytest.raises(ValueError, match="no button"):
        server.press_button(USER, sent.message_id, "forged")
    assert server.press_button(USER, sent.message_id, "forged", check=False)


async def test_blocked_user(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    server.block_bot(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "Erinnerung")
    updates = await bot.get_updates()
    member_update = updates[-1].my_chat_member
    assert member_update is not None
    assert member_update.new_chat_member.status == "kicked"


async def test_wait_for_wakes_on_send(server: BotApiServer, bot: Bot) -> None:
    server.send_text(USER, "/start")
    mark = server.mark()

    async def later() -> None:
        await bot.send_message(USER, "Ergebnis: Optimierer")

    import asyncio

    task = asyncio.create_task(later())
    found = await server.wait_for(lambda m: "Ergebnis" in m.body, timeout=2, since=mark)
    await task
    assert found.text == "Ergebnis: Optimierer"
    with pytest.raises(TimeoutError):
        await server.wait_for(lambda m: "nie" in m.body, timeout=0.05)


async def test_late_callback_answer_fails(server: BotApiServer, bot: Bot) -> None:
    import asyncio

    server.settings.callback_answer_window = 0.05
    server.send_text(USER, "/start")
    sent = await bot.send_message(USER, "Frage", reply_markup=keyboard("a"))
    query_id = server.press_button(USER, sent.message_id, "a")
    await asyncio.sleep(0.1)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    assert server.callback_answer(query_id) is None

"""The update guard skips what Telegram could never send, and nothing Telegram does send."""

from __future__ import annotations

from typing import Any

from bot.update_guard import parsed

USER = {"id": 7, "is_bot": False, "first_name": "Ada"}
CHAT = {"id": 7, "type": "private", "first_name": "Ada"}


def press(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "update_id": 11,
        "callback_query": {
            "id": "q1",
            "from": USER,
            "chat_instance": "ci",
            "data": "a:1:g01:3",
            "message": message,
        },
    }


def test_a_press_on_a_message_older_than_48_hours_is_kept() -> None:
    # Telegram sends such a message with date 0 and nothing but its chat and id.
    update, problem = parsed(press({"chat": CHAT, "message_id": 5, "date": 0}), None)
    assert problem is None
    assert update.callback_query is not None
    assert update.callback_query.message is not None
    assert not update.callback_query.message.is_accessible
    assert update.callback_query.data == "a:1:g01:3"


def test_a_press_on_a_message_in_a_malformed_chat_is_skipped() -> None:
    bad_chat = {"id": "7", "type": "private"}
    update, problem = parsed(press({"chat": bad_chat, "message_id": 5, "date": 0}), None)
    assert problem == "malformed chat"
    assert update.callback_query is None


def test_a_press_on_an_ordinary_message_is_kept() -> None:
    bot = {"id": 42, "is_bot": True, "first_name": "D-Team", "username": "dteam_bot"}
    message = {"chat": CHAT, "message_id": 5, "date": 1_700_000_000, "text": "F1", "from": bot}
    update, problem = parsed(press(message), None)
    assert problem is None
    assert update.callback_query is not None

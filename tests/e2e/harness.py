"""Runs the real bot (the `dteam run` code path) against the sandbox, and plays participants."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bot.runner import run_polling
from bot.settings import Settings, load_settings
from sandbox.models import StoredMessage
from sandbox.participants import SimulatedParticipant
from sandbox.server import BotApiServer
from tests.support.bots import InLoopBot

TOKEN = "123456:TEST-token-for-the-sandbox"
BOT_USERNAME = "dteam_test_bot"
_PROGRESS = re.compile(r"^(?:Frage|Question) (\d+) (?:von|of) (\d+)")


def make_settings(root: str, database_url: str, **overrides: object) -> Settings:
    """Returns settings that point the bot at the sandbox, with pacing off unless asked for.

    Production pacing spaces a private chat's messages 1.25 s apart; tests that check pacing
    (marker `throttle`) switch it on, the others would only wait.
    """
    values: dict[str, object] = {
        "throttle": False,
        "bot_token": TOKEN,
        "api_url": root,
        "database_url": database_url,
        "live_interval": 0.3,
        "listen_port": 0,  # /healthz on any free port: parallel runs must not collide
    }
    values.update(overrides)
    return load_settings(None, **values)


class BotProcess(InLoopBot):
    """The bot polling the stand-in from this event loop (the `dteam run` code path)."""

    what = "bot (polling)"

    def __init__(self, sandbox: BotApiServer, settings: Settings) -> None:
        super().__init__(settings)
        self.sandbox = sandbox

    def _main(self, stop: asyncio.Event, ready: asyncio.Event) -> Coroutine[Any, Any, None]:
        return run_polling(self.settings, stop, ready)


def progress(message: StoredMessage) -> tuple[int, int] | None:
    """Returns (n, total) if the message shows a question."""
    match = _PROGRESS.match(message.text or "")
    return (int(match[1]), int(match[2])) if match else None


def answer_buttons(message: StoredMessage) -> list[dict[str, str]]:
    """Returns the answer buttons (not back/skip navigation) of a question message."""
    return [b for b in message.buttons if str(b.get("callback_data", "")).startswith("a:")]


Chooser = Callable[[str, list[dict[str, str]]], dict[str, str]]


def first_option(_item: str, buttons: list[dict[str, str]]) -> dict[str, str]:
    """Picks the first answer option."""
    return buttons[0]


@dataclass
class Person:
    """A simulated participant who knows how this bot asks its questions.

    What any person in a chat does (send, press, wait for the bot) is sandbox/participants.py's
    SimulatedParticipant; this adds what D-Team shows: consent, numbered questions, the card.
    """

    sandbox: BotApiServer
    user_id: int
    first_name: str = "Test"
    language: str = "de"
    pressed: dict[str, str] = field(default_factory=dict)
    timeout: float = 20.0
    chat: SimulatedParticipant = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Registered anew even if known: a test may bring the same person back with another
        # name or language.
        self.sandbox.add_user(self.user_id, self.first_name, language_code=self.language)
        self.chat = SimulatedParticipant(
            self.sandbox, self.user_id, self.first_name, self.language, timeout=self.timeout
        )

    async def say(self, text: str) -> StoredMessage:
        """Sends text and waits for the bot's next message to this person."""
        await self.chat.say(text)
        return await self.chat.wait_for(lambda m: True, self.timeout)

    async def press(self, message: StoredMessage, data: str) -> str:
        """Presses a button; returns the callback query id after the bot answered it."""
        press = await self.chat.press_data(message, data)
        await self.chat.wait_for_answer(press, self.timeout)
        return press.query_id

    async def press_and_wait(
        self, message: StoredMessage, data: str, predicate: Callable[[StoredMessage], bool]
    ) -> StoredMessage:
        """Presses a button and waits for a bot message matching predicate."""
        await self.chat.press_data(message, data)
        return await self.chat.wait_for(predicate, self.timeout)

    def question(self) -> StoredMessage | None:
        """Returns the bot's current question message to this person, if any."""
        for message in reversed(self.chat.messages()):
            if not message.deleted and progress(message) and answer_buttons(message):
                return message
        return None

    async def join(self, payload: str | None = None) -> StoredMessage:
        """Sends /start (with a payload), consents, and returns the first question."""
        welcome = await self.say(f"/start {payload}" if payload else "/start")
        # With the Mini App on, the welcome also has a web_app button (no callback data).
        consent = next(
            b for b in welcome.buttons if str(b.get("callback_data", "")).split(":")[0] == "c"
        )
        return await self.press_and_wait(welcome, consent["callback_data"], _is_question)

    async def answer_all(
        self, question: StoredMessage, choose: Chooser = first_option
    ) -> StoredMessage:
        """Answers every question; returns the bot's profile card message at the end."""
        current = question
        while True:
            buttons = answer_buttons(current)
            item = buttons[0]["callback_data"].split(":")[2]
            pick = choose(item, buttons)
            self.pressed[item] = pick["callback_data"].split(":")[3]
            current = await self.press_and_wait(
                current, pick["callback_data"], lambda m: _is_question(m) or _is_card(m)
            )
            if _is_card(current):
                return current


def _is_question(message: StoredMessage) -> bool:
    return progress(message) is not None and bool(answer_buttons(message))


def _is_card(message: StoredMessage) -> bool:
    text = message.text or ""
    return text.startswith(("Steckbrief:", "Profile card:"))

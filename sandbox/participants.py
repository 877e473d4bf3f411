"""Simulated participants that talk to the bot only through the sandbox's Python API.

The one driver of a person in a private chat with a bot: the end-to-end tests, the fault
suite, the offline demo and the benchmarks build what they know of D-Team on top of it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer

Button = dict[str, Any]
Chooser = Callable[[StoredMessage, list[Button]], Button | None]
ButtonMatch = str | Callable[[Button], bool]


@dataclass(frozen=True)
class Press:
    """One button a participant pressed."""

    message_id: int
    message_text: str
    button_text: str
    callback_data: str
    query_id: str


class SimulatedParticipant:
    """A user in a private chat with the bot who reads messages and presses buttons."""

    def __init__(
        self,
        server: BotApiServer,
        user_id: int,
        first_name: str,
        language_code: str | None = "de",
        *,
        username: str | None = None,
        think_time: float | tuple[float, float] = 0.0,
        timeout: float = 10.0,
        token: str | None = None,
    ) -> None:
        self.server = server
        self.user_id = user_id
        self.token = token
        self.think_time = think_time
        self.timeout = timeout
        self.pressed: list[Press] = []
        self._mark = server.mark()
        self._random = random.Random(user_id)
        if user_id not in server.world.users:
            server.add_user(user_id, first_name, language_code, username)

    @property
    def chat_id(self) -> int:
        """The private chat with the bot."""
        return self.user_id

    async def _think(self) -> None:
        pause = self.think_time
        if isinstance(pause, tuple):
            pause = self._random.uniform(*pause)
        if pause > 0:
            await asyncio.sleep(pause)

    async def start(self, payload: str | None = None) -> None:
        """Send ``/start`` (with a deep-link payload when given)."""
        await self.say("/start" if payload is None else f"/start {payload}")

    async def say(self, text: str) -> None:
        """Type a text message to the bot."""
        await self._think()
        self._mark = self.server.mark()
        self.server.send_text(self.user_id, text, token=self.token)

    def messages(self) -> list[StoredMessage]:
        """The bot's messages in this participant's chat."""
        return self.server.messages(self.chat_id, self.token)

    def keyboard_message(self) -> StoredMessage | None:
        """The newest bot message here that currently carries an inline keyboard."""
        shown = [m for m in self.messages() if m.has_keyboard and not m.deleted]
        return max(shown, key=lambda m: m.seq) if shown else None

    @property
    def mark(self) -> int:
        """The stand-in's sequence number just before this participant's last action."""
        return self._mark

    def find_keyboard(self, since: int | None = None) -> StoredMessage | None:
        """The bot's most recently changed message here with a keyboard (changed after since)."""
        return self.server.find(
            lambda m: m.has_keyboard and not m.deleted,
            chat_id=self.chat_id,
            since=since,
            token=self.token,
        )

    async def wait_for(
        self,
        predicate: Callable[[StoredMessage], bool],
        timeout: float | None = None,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> StoredMessage:
        """Wait for a bot message here matching ``predicate``, since our last action by default."""
        return await self.server.wait_for(
            predicate,
            self.timeout if timeout is None else timeout,
            chat_id=self.chat_id,
            since=self._mark if since is None else since,
            token=self.token,
        )

    async def wait_for_answer(self, press: Press, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until the bot answered the callback query of ``press`` (the spinner stops)."""
        await self.server.wait_for_answer(
            press.query_id, self.timeout if timeout is None else timeout, token=self.token
        )

    async def wait_for_keyboard(self, timeout: float | None = None) -> StoredMessage:  # noqa: ASYNC109
        """Wait for a bot message with an inline keyboard that changed since our last action."""
        return await self.server.wait_for(
            lambda m: m.has_keyboard and not m.deleted,
            self.timeout if timeout is None else timeout,
            chat_id=self.chat_id,
            since=self._mark,
            token=self.token,
        )

    async def wait_for_text(self, fragment: str, timeout: float | None = None) -> StoredMessage:  # noqa: ASYNC109
        """Wait for a bot message here whose text or caption contains ``fragment``."""
        return await self.server.wait_for(
            lambda m: fragment in m.body and not m.deleted,
            self.timeout if timeout is None else timeout,
            chat_id=self.chat_id,
            since=self._mark,
            token=self.token,
        )

    async def press(self, match: ButtonMatch, message: StoredMessage | None = None) -> Press:
        """Press the button whose text or callback data equals ``match`` (or satisfies it)."""
        target = message or self.keyboard_message() or await self.wait_for_keyboard()
        for button in target.buttons:
            if "callback_data" not in button:
                continue
            if callable(match):
                if match(button):
                    return await self._press(target, button)
            elif match in (button.get("text"), button.get("callback_data")):
                return await self._press(target, button)
        raise LookupError(f"no button {match!r} on message {target.message_id}: {target.buttons}")

    async def press_data(self, message: StoredMessage, data: str) -> Press:
        """Press the button with callback data ``data`` on ``message``, as the bot sent it.

        The stand-in checks that the message shows that button now (ValueError if not).
        """
        shown = next((b for b in message.buttons if b.get("callback_data") == data), None)
        return await self._press(
            message, {"text": shown["text"] if shown else "", "callback_data": data}
        )

    async def _press(self, message: StoredMessage, button: Button) -> Press:
        await self._think()
        self._mark = self.server.mark()
        query_id = self.server.press_button(
            self.user_id, message.message_id, button["callback_data"], token=self.token
        )
        press = Press(
            message.message_id, message.body, button["text"], button["callback_data"], query_id
        )
        self.pressed.append(press)
        return press

    async def answer_all(
        self,
        choose: Chooser,
        *,
        final: Callable[[StoredMessage], bool] | None = None,
        quiet: float = 0.3,
        max_steps: int = 500,
    ) -> list[Press]:
        """Press through the questions until ``final`` matches or a keyboard-less message stays."""
        start = len(self.pressed)
        for _ in range(max_steps):
            message = await self._next_question(final, quiet)
            if message is None:
                return self.pressed[start:]
            options = [b for b in message.buttons if "callback_data" in b]
            button = choose(message, options)
            if button is not None:
                await self._press(message, button)
            else:
                self._mark = message.seq
        raise RuntimeError(f"participant {self.user_id} exceeded {max_steps} steps")

    async def _next_question(
        self, final: Callable[[StoredMessage], bool] | None, quiet: float
    ) -> StoredMessage | None:
        deadline = time.monotonic() + self.timeout
        server, notifier = self.server, self.server.world.notifier
        while True:
            question = server.find(
                lambda m: m.has_keyboard and not m.deleted,
                chat_id=self.chat_id,
                since=self._mark,
                token=self.token,
            )
            if question is not None:
                return question
            if final is not None:
                if server.find(final, chat_id=self.chat_id, since=self._mark, token=self.token):
                    return None
            else:
                newest = server.last_message(self.chat_id, self.token)
                settled = newest is not None and newest.seq > self._mark
                if settled and not await notifier.wait(quiet):
                    return None
                if settled:
                    continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await notifier.wait(remaining):
                last = server.last_message(self.chat_id, self.token)
                seen = last.body if last else None
                raise TimeoutError(
                    f"participant {self.user_id}: no question or end within {self.timeout} s;"
                    f" last bot message: {seen!r}"
                )

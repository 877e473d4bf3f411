"""Simulated participants for the demo, fault suite and benchmarks: they tap like people do.

Each drives its chat through sandbox/participants.py's SimulatedParticipant; what is here is
how a person walks through D-Team.

A `Walker` joins through the deep link, consents and answers from a fixed answer sheet, acting
on whatever the bot shows (welcome, resume offer, question). When the bot does not react within
`patience` seconds (it crashed, an update was lost) it taps the same button again, or sends
/start again when there is nothing to tap, as a real user would. `AppWalker` does the same
through the Mini App's API.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp

from sandbox.models import StoredMessage
from sandbox.participants import SimulatedParticipant
from sandbox.server import BotApiServer
from typology.questionnaire import SKIP, Questionnaire
from typology.synthetic import generate_matrix
from typology.types import TYPES


def answer_sheets(q: Questionnaire, n: int, *, seed: int = 7) -> list[dict[str, str]]:
    """Returns n plausible answer sheets, each leaning to one of the four types with noise."""
    matrix, _ = generate_matrix(n, q, seed=seed)
    rng = random.Random(seed)  # noqa: S311 - answer noise, not security
    sheets = []
    for row in matrix:
        sheet = {it.id: str(int(v)) for it, v in zip(q.rating_items, row[:-1], strict=True)}
        sheet[q.choice_item.id] = TYPES[int(row[-1])].value
        for item in q.context_items:
            options = [o.id for o in item.options]
            sheet[item.id] = SKIP if rng.random() < 0.1 else rng.choice(options)
        sheets.append(sheet)
    return sheets


def _prefixes(message: StoredMessage) -> set[str]:
    return {str(b.get("callback_data", "")).split(":")[0] for b in message.buttons}


@dataclass
class Walker:
    """One participant in a private chat, answering from `sheet`."""

    server: BotApiServer
    user_id: int
    code: str
    sheet: dict[str, str]
    token: str | None = None
    patience: float = 5.0
    deadline: float = 120.0
    language: str = "de"
    retry_on: str | None = None  # a bot message asking to tap again (e.g. database trouble)
    pressed: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    saw_result: bool = False
    done: bool = False
    latencies: list[float] = field(default_factory=list)
    _query: str | None = None
    _last: tuple[int, str] | None = None
    chat: SimulatedParticipant = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.chat = SimulatedParticipant(
            self.server, self.user_id, f"P{self.user_id}", self.language, token=self.token
        )

    async def _start(self) -> None:
        self._query, self._last = None, None
        await self.chat.start(self.code)

    async def _press(self, message: StoredMessage, data: str) -> None:
        self._last = (message.message_id, data)
        self._query = (await self.chat.press_data(message, data)).query_id

    async def _act(self, message: StoredMessage) -> bool:
        """Taps what the message asks for; returns False when there is nothing to tap."""
        kinds = _prefixes(message)
        if "s" in kinds:  # the profile card with its share button: finished
            self.saw_result = self.done = True
            return True
        for button in message.buttons:
            data = str(button.get("callback_data", ""))
            parts = data.split(":")
            if parts[0] == "a" and len(parts) == 4 and self.sheet.get(parts[2]) == parts[3]:
                self.pressed[parts[2]] = parts[3]
                await self._press(message, data)
                return True
        for prefix in ("r", "c"):  # resume offer, welcome with consent
            for button in message.buttons:
                if str(button.get("callback_data", "")).split(":")[0] == prefix:
                    await self._press(message, str(button["callback_data"]))
                    return True
        return False

    def _answered_all(self) -> bool:
        return self.pressed.keys() >= self.sheet.keys()

    def _run_over(self) -> bool:
        if self._query is None:
            return False
        answer = self.server.callback_answer(self._query, self.token) or {}
        return bool(answer) and self._answered_all() and bool(answer.get("text"))

    def _told_to_retry(self, since: int) -> bool:
        fragment = self.retry_on
        if fragment is None:
            return False
        told = self.server.find(
            lambda m: fragment in m.body, chat_id=self.user_id, since=since, token=self.token
        )
        return told is not None

    async def _retry(self) -> None:
        """Taps again after the bot stayed silent: the same button, else /start."""
        self.retries += 1
        if self._run_over():  # a re-tap after a crash: the run was completed before
            self.done = True
            return
        current = self.chat.find_keyboard()
        if current is not None and await self._act(current):
            return
        if self._answered_all():  # "thanks" shown, the result never came: the run is stored
            self.done = True
            return
        await self._start()

    async def walk(self) -> None:
        """Joins, consents and answers until the result card (or a stored, silent finish)."""
        notifier = self.server.world.notifier
        end = time.monotonic() + self.deadline
        mark = self.server.mark()
        await self._start()
        quiet_since = time.monotonic()
        tapped = time.perf_counter()
        while not self.done:
            message = self.chat.find_keyboard(mark)
            if message is not None:
                mark = self.server.mark()
                self.latencies.append(time.perf_counter() - tapped)
                if await self._act(message):
                    tapped, quiet_since = time.perf_counter(), time.monotonic()
                    continue
            if self._told_to_retry(mark):
                mark = self.server.mark()
                await self._retry()
                quiet_since = time.monotonic()
                continue
            now = time.monotonic()
            if now > end:
                raise TimeoutError(f"participant {self.user_id} did not finish in time")
            if now - quiet_since >= self.patience:
                mark = self.server.mark()
                await self._retry()
                quiet_since = time.monotonic()
                continue
            await notifier.wait(min(self.patience - (now - quiet_since), end - now) + 0.01)


@dataclass
class AppWalker:
    """One participant in the Mini App, opened from the workshop's startapp link.

    Makes the requests the page makes (open, consent, one per answer, from `sheet`), with the
    launch data the stand-in signs, and waits for the result card in the chat.
    """

    server: BotApiServer
    user_id: int
    link: str  # t.me/<bot>?startapp=<code>
    sheet: dict[str, str]
    base: str  # the bot's web root (DTEAM_PUBLIC_URL)
    token: str | None = None
    language: str = "de"
    deadline: float = 120.0
    saw_result: bool = False

    def __post_init__(self) -> None:
        if self.user_id not in self.server.world.users:
            self.server.add_user(self.user_id, f"A{self.user_id}", self.language)

    async def walk(self, http: aiohttp.ClientSession) -> None:
        """Opens the app, consents, answers every question, and waits for the chat's card."""
        url = self.server.open_web_app(self.user_id, link=self.link, token=self.token)
        init_data = dict(parse_qsl(url.split("#", 1)[1]))["tgWebAppData"]
        headers = {"Authorization": f"tma {init_data}", "Content-Type": "application/json"}
        sent = 0

        async def post(action: str, body: dict[str, Any]) -> dict[str, Any]:
            nonlocal sent
            sent += 1
            payload = json.dumps({"request_id": f"demo-{self.user_id}-{sent:04d}", **body})
            async with http.post(
                f"{self.base}/app/api/{action}", data=payload, headers=headers
            ) as r:
                if r.status != 200:
                    raise RuntimeError(f"{action}: HTTP {r.status}")
                return dict(await r.json())

        mark = self.server.mark()
        await post("open", {})
        view = await post("consent", {})
        while isinstance(run := view.get("run"), dict):
            item = str(run["current"])
            view = await post(
                "answer", {"run": run["id"], "item": item, "option": self.sheet[item]}
            )
        self.saw_result = isinstance(view.get("result"), dict)
        await self.server.wait_for(
            lambda m: any(b.get("callback_data") == "n" for b in m.buttons),  # the card's "again"
            self.deadline,
            chat_id=self.user_id,
            since=mark,
            token=self.token,
        )

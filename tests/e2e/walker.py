"""A seeded random walker: participants who take any route a person can, and the invariants.

The walker plays several participants, two moderators and bot restarts through the real bot
on the stand-in. Each step is one action a person could take: any button visible in their
chat (stale ones too), `/start` with or without a session's payload, `/language`,
`/delete_me`, text, stickers; or a moderator's `/close`, `/reopen`, `/summary`; or a restart
of the bot. Steps run one after another, and each waits until the bot has handled it (a probe
press from the same user: the bot handles one person's updates in order).

What the walker knows comes only from what a person sees, plus a model of what the product
promises (the specification, not the implementation):
- a participant's *intent* is the session whose link they opened last (or that they chose
  from an offer, or a choice prompt); the solo button clears it; deleting their data clears
  it;
- a result shown while the intended session is open counts for that session, else for none;
- each session's composition equals the tally of the types its participants were told last.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import col

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Result, Run, Workshop
from tests.e2e.harness import BotProcess
from tests.e2e.websession import command, live_message, make_group, open_session
from tests.support.database import reading

TYPE_NAMES = {
    "Die Bedächtigen": "bedaechtige",
    "Die Optimierer": "optimierer",
    "Die Serviceorientierten": "serviceorientierte",
    "Die Community Manager": "community",
    "The Deliberate": "bedaechtige",
    "The Optimisers": "optimierer",
    "The Service-Oriented": "serviceorientierte",
    "The Community Managers": "community",
}
_CAPTION = re.compile(r"^(?:Ihr Ergebnis|Your result): (.+)$")
SOLO_LABELS = ("Für mich allein ausfüllen", "Just for me")
TEXTS = ("hallo", "Wie geht das?", "/help", "/privacy", "/about", "/foo", "1", "")


@dataclass
class SessionModel:
    """What the walker knows of one web session."""

    name: str
    chat_id: int
    moderator: int
    title: str
    code: str = ""
    open: bool = True


@dataclass
class PersonModel:
    """What one simulated participant did and was told."""

    user_id: int
    intent: str | None = None  # session name
    told: dict[str, str] = field(default_factory=dict)  # session name -> type told last
    trail: list[str] = field(default_factory=list)  # kinds of steps since the last result
    results: int = 0
    accepted: dict[int, dict[str, str]] = field(default_factory=dict)  # run -> item -> option
    # Presses the bot never answered (it was killed): each may or may not have been stored.
    unsure: dict[int, dict[str, set[str]]] = field(default_factory=dict)


@dataclass
class Coverage:
    """Which kinds of steps a walk took, for the long walk's report."""

    actions: Counter[str] = field(default_factory=Counter)
    buttons: Counter[str] = field(default_factory=Counter)
    results: int = 0
    restarts: int = 0
    # A route: the kinds of steps one person took from one result (or the start) to the next,
    # repeats collapsed ("a" five times is one "a"); transitions: pairs of consecutive kinds.
    routes: set[tuple[str, ...]] = field(default_factory=set)
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def merge(self, other: Coverage) -> None:
        """Adds another walk's coverage to this one."""
        self.actions.update(other.actions)
        self.buttons.update(other.buttons)
        self.results += other.results
        self.restarts += other.restarts
        self.routes |= other.routes
        self.transitions.update(other.transitions)


class WalkFailure(AssertionError):
    """An invariant does not hold; the message says which and for whom."""


class Walker:
    """Plays one seeded walk against a running bot and checks the invariants after it."""

    def __init__(
        self,
        sandbox: BotApiServer,
        bot: BotProcess,
        *,
        seed: int,
        people: int = 6,
        first_user: int = 5_000,
        restart: Callable[[], asyncio.Future[BotProcess]] | None = None,
    ) -> None:
        self.sandbox, self.bot, self.seed = sandbox, bot, seed
        self.rng = random.Random(seed)
        self.sessions = [
            SessionModel("A", -7_001, 7_001, "Runde A & Co <b>"),
            SessionModel("B", -7_002, 7_002, "Runde B"),
        ]
        self.people = [PersonModel(first_user + i) for i in range(people)]
        self.coverage = Coverage()
        self.timeout = 20.0
        self._restart = restart

    # --- set-up ---------------------------------------------------------------------------

    async def setup(self) -> None:
        """Creates the two groups and sessions; every participant is a member of both."""
        for s in self.sessions:
            make_group(self.sandbox, s.chat_id, s.moderator)
        for p in self.people:
            self.sandbox.add_user(p.user_id, f"P{p.user_id}", language_code="de")
            for s in self.sessions:
                self.sandbox.set_member(s.chat_id, p.user_id, "member")
        for s in self.sessions:
            s.code = await open_session(self.sandbox, s.moderator, s.chat_id, s.title)

    def session_by_code(self, code: str) -> SessionModel | None:
        return next((s for s in self.sessions if s.code == code), None)

    def session_by_label(self, label: str) -> SessionModel | None:
        # Titles as the bot shows them on a button (plain text: no HTML there).
        return next((s for s in self.sessions if s.title in label), None)

    @property
    def database_url(self) -> str:
        """The database the bot writes to, read by the checks."""
        return self.bot.settings.database_url

    # --- waiting --------------------------------------------------------------------------

    async def answered(self, query: str) -> dict[str, object] | None:
        """Waits until the bot answered a press; returns the answer (None: never answered)."""
        await self.sandbox.wait_for_answer(query, self.timeout)
        return self.sandbox.callback_answer(query)

    async def settle(self, user_id: int) -> None:
        """Waits until the bot has handled everything this user sent (a probe press)."""
        chat = self.sandbox.messages(user_id)
        target = chat[-1].message_id if chat else 1
        query = self.sandbox.press_button(user_id, target, "_", check=False)
        await self.sandbox.wait_for_answer(query, self.timeout)

    # --- one step -------------------------------------------------------------------------

    async def step(self) -> None:
        """Takes one random action by a participant, a moderator or the operator."""
        roll = self.rng.random()
        if roll < 0.02 and self._restart is not None:
            await self.restart_bot()
        elif roll < 0.06:
            await self.moderator_step(self.rng.choice(self.sessions))
        else:
            await self.person_step(self.rng.choice(self.people))

    async def restart_bot(self) -> None:
        assert self._restart is not None
        self.note(None, "restart")
        self.coverage.restarts += 1
        await self.bot.crash()
        self.bot = await self._restart()

    async def moderator_step(self, s: SessionModel) -> None:
        what = self.rng.choice(["/close", "/reopen", "/summary", "/close", "/reopen"])
        self.note(None, f"moderator {what}")
        await command(self.sandbox, s.moderator, s.chat_id, what, timeout=self.timeout)
        if what == "/close":
            s.open = False
        elif what == "/reopen":
            s.open = True

    async def person_step(self, p: PersonModel) -> None:
        roll = self.rng.random()
        mark = self.sandbox.mark()
        if roll < 0.75:
            await self.press_any(p)
        elif roll < 0.83:
            s = self.rng.choice(self.sessions)
            self.note(p, "/start code")
            await self.say(p, f"/start {s.code}")
            self.after_link(p, s, mark)
        elif roll < 0.87:
            self.note(p, "/start")
            await self.say(p, "/start")
        elif roll < 0.89:
            self.note(p, "/start unknown")
            await self.say(p, "/start NOSUCHCODE")
        elif roll < 0.92:
            self.note(p, "/language")
            await self.say(p, "/language")
        elif roll < 0.94:
            self.note(p, "/delete_me")
            await self.say(p, "/delete_me")
        elif roll < 0.97:
            self.note(p, "text")
            await self.say(p, self.rng.choice(TEXTS) or "…")
        else:
            self.note(p, "sticker")
            self.sandbox.send_sticker(p.user_id)
            await self.settle(p.user_id)
        self.collect_results(p, mark)

    async def say(self, p: PersonModel, text: str) -> None:
        self.sandbox.send_text(p.user_id, text)
        await self.settle(p.user_id)

    def after_link(self, p: PersonModel, s: SessionModel, mark: int) -> None:
        """Opening an open session's link makes it the intent, unless the bot asks first."""
        if not s.open:
            return
        asked = any(
            self.choice_for(b) is not None
            for m in self.new_messages(p.user_id, mark)
            for b in m.buttons
        )
        if not asked:
            p.intent = s.name

    def choice_for(self, button: dict[str, str]) -> SessionModel | None:
        """The session a button chooses explicitly (a join or switch button), if any."""
        data = str(button.get("callback_data", ""))
        if not data.startswith("j:"):
            return None
        return self.session_by_code(data[2:]) or self.session_by_label(button.get("text", ""))

    def note(self, p: PersonModel | None, kind: str) -> None:
        """Counts a step; a step by nobody in particular (a restart, a moderator) is in
        every person's route."""
        self.coverage.actions[kind] += 1
        for person in self.people if p is None else [p]:
            if person.trail and person.trail[-1] == kind:
                continue
            if person.trail:
                self.coverage.transitions[(person.trail[-1], kind)] += 1
            person.trail.append(kind)

    def new_messages(self, user_id: int, mark: int) -> list[StoredMessage]:
        return [m for m in self.sandbox.messages(user_id) if m.from_bot and m.seq > mark]

    async def press_any(self, p: PersonModel) -> None:
        """Presses any button visible in the chat: mostly on the newest message, else any."""
        with_buttons = [
            m
            for m in self.sandbox.messages(p.user_id)
            if m.from_bot and not m.deleted and any("callback_data" in b for b in m.buttons)
        ]
        if not with_buttons:
            self.note(p, "/start (nothing to press)")
            await self.say(p, "/start")
            return
        # People mostly go forward on the newest message; now and then they scroll up.
        newest = self.rng.random() < 0.85
        message = with_buttons[-1] if newest else self.rng.choice(with_buttons)
        buttons = [b for b in message.buttons if "callback_data" in b]
        answers = [b for b in buttons if b["callback_data"].startswith("a:")]
        pool = answers if answers and newest and self.rng.random() < 0.8 else buttons
        button = self.rng.choice(pool)
        data = button["callback_data"]
        kind = data.split(":", 1)[0]
        self.coverage.buttons[kind] += 1
        self.note(p, f"press {kind}" if message is with_buttons[-1] else f"press {kind} (old)")
        query = self.sandbox.press_button(p.user_id, message.message_id, data)
        await self.answered(query)
        await self.settle(p.user_id)
        self.after_press(p, button, query)

    def after_press(self, p: PersonModel, button: dict[str, str], query: str) -> None:
        """Updates the model of the person from what the bot answered to a press."""
        data = button["callback_data"]
        answer = self.sandbox.callback_answer(query)
        if answer is None:  # never answered: the bot died with it, or it comes again later
            self.unsure(p, data)
            return
        chosen = self.choice_for(button)
        if chosen is not None and chosen.open:
            p.intent = chosen.name
        elif button.get("text", "") in SOLO_LABELS:
            p.intent = None
        elif data == "d:yes":
            p.intent, p.told, p.accepted, p.unsure = None, {}, {}, {}
        elif data.startswith("a:") and not answer.get("text"):
            _, run, item, option = data.split(":")
            p.accepted.setdefault(int(run), {})[item] = option
            p.unsure.get(int(run), {}).pop(item, None)

    def unsure(self, p: PersonModel, data: str) -> None:
        """Notes an answer press that may or may not have been stored."""
        if data.startswith("a:"):
            _, run, item, option = data.split(":")
            p.unsure.setdefault(int(run), {}).setdefault(item, set()).add(option)

    def collect_results(self, p: PersonModel, mark: int) -> None:
        """Records each result the person was shown in this step, for the session it counts."""
        for message in self.new_messages(p.user_id, mark):
            match = _CAPTION.match(message.caption or "")
            if message.photo is None or match is None:
                continue
            type_id = TYPE_NAMES[match[1].strip()]
            p.results += 1
            self.coverage.results += 1
            self.coverage.routes.add(tuple(p.trail))
            p.trail = []
            target = next((s for s in self.sessions if s.name == p.intent), None)
            if target is not None and target.open:
                p.told[target.name] = type_id

    # --- the walk and its end -------------------------------------------------------------

    async def walk(self, steps: int) -> None:
        await self.setup()
        for _ in range(steps):
            await self.step()
        for p in self.people:
            await self.finish(p)

    async def finish(self, p: PersonModel) -> None:
        """Leads the person to a result by the obvious buttons: nobody may be stuck."""
        mark = self.sandbox.mark()
        await self.say(p, "/start")
        for _ in range(60):
            if any(m.photo is not None for m in self.new_messages(p.user_id, mark)):
                self.collect_results(p, mark)
                return
            newest = next(
                (
                    m
                    for m in reversed(self.sandbox.messages(p.user_id))
                    if m.from_bot and not m.deleted and m.buttons
                ),
                None,
            )
            if newest is None:
                raise WalkFailure(f"seed {self.seed}: user {p.user_id} has no button to go on")
            button = self.pick_forward(newest)
            if button is None:
                raise WalkFailure(
                    f"seed {self.seed}: user {p.user_id} is stuck at {newest.text!r}"
                )
            query = self.sandbox.press_button(
                p.user_id, newest.message_id, button["callback_data"]
            )
            await self.answered(query)
            await self.settle(p.user_id)
            self.after_press(p, button, query)
        raise WalkFailure(f"seed {self.seed}: user {p.user_id} got no result in 60 presses")

    def pick_forward(self, message: StoredMessage) -> dict[str, str] | None:
        buttons = [b for b in message.buttons if "callback_data" in b]
        for prefix in ("a:", "c", "r:", "j:", "n"):
            found = [b for b in buttons if b["callback_data"].startswith(prefix)]
            if found:
                return self.rng.choice(found) if prefix == "a:" else found[0]
        return None

    async def check(self) -> None:
        """Checks the invariants: compositions, stored answers, no refused Bot API call."""
        for s in self.sessions:
            expected = Counter(p.told[s.name] for p in self.people if s.name in p.told)
            stored = await self.stored_types(s)
            if stored != expected:
                raise WalkFailure(
                    f"seed {self.seed}: session {s.name} stores {dict(stored)}, "
                    f"participants were told {dict(expected)}"
                )
            if not s.open:
                await command(self.sandbox, s.moderator, s.chat_id, "/reopen")
                s.open = True
            post = await command(
                self.sandbox,
                s.moderator,
                s.chat_id,
                "/summary",
                lambda m: "D-Team" in (m.text or "") or "noch" in (m.text or ""),
                timeout=self.timeout,
            )
            shown = summary_counts(post.text or "")
            if shown != {k: v for k, v in expected.items() if v}:
                raise WalkFailure(
                    f"seed {self.seed}: /summary of {s.name} shows {shown}, "
                    f"participants were told {dict(expected)}"
                )
            await self.check_live(s, {k: v for k, v in expected.items() if v})
        await self.check_answers()
        self.check_refused()

    def check_refused(self) -> None:
        """No Bot API call got a 4xx, except "message is not modified" (success to the bot)."""
        refused = [
            (c.method, c.status, c.description)
            for c in self.sandbox.calls
            if 400 <= c.status < 500 and "not modified" not in (c.description or "")
        ]
        if refused:
            raise WalkFailure(f"seed {self.seed}: Telegram refused {len(refused)}: {refused[:5]}")

    async def check_live(self, s: SessionModel, expected: dict[str, int]) -> None:
        """The pinned live message settles on the composition the participants were told."""

        def shows(message: StoredMessage) -> bool:
            newest = live_message(self.sandbox, s.chat_id)
            if newest is None or newest.message_id != message.message_id:
                return False
            shown = summary_counts(message.text or "")
            return {k: v for k, v in shown.items() if v} == expected

        if not expected:
            return
        try:
            await self.sandbox.wait_for(shows, self.timeout, chat_id=s.chat_id)
        except TimeoutError as exc:
            lives = [m.text for m in self.sandbox.messages(s.chat_id) if m.text and "📊" in m.text]
            raise WalkFailure(
                f"seed {self.seed}: live message of {s.name} shows {lives[-1:]!r}, "
                f"participants were told {expected}"
            ) from exc

    async def stored_types(self, s: SessionModel) -> Counter[str]:
        """Each participant's latest finished run in the session, by type, from the database."""
        async with reading(self.database_url) as session:
            workshop = (
                await session.execute(select(Workshop).where(col(Workshop.code) == s.code))
            ).scalar_one()
            rows = (
                await session.execute(
                    select(col(Run.participant_id), col(Result.main_type))
                    .join(Result, col(Result.run_id) == col(Run.id))
                    .where(col(Run.workshop_id) == workshop.id, col(Run.status) == "finished")
                    .order_by(col(Run.id))
                )
            ).all()
        latest = dict(rows)
        return Counter(latest.values())

    async def check_answers(self) -> None:
        """Stored answers of every finished run equal the presses the bot accepted last."""
        async with reading(self.database_url) as session:
            rows = (
                await session.execute(
                    select(
                        col(Participant.telegram_id),
                        col(Run.id),
                        col(Answer.item_id),
                        col(Answer.option_id),
                    )
                    .join(Run, col(Run.participant_id) == col(Participant.id))
                    .join(Answer, col(Answer.run_id) == col(Run.id))
                    .where(col(Run.status) == "finished")
                )
            ).all()
        stored: dict[tuple[int, int], dict[str, str]] = {}
        for telegram_id, run_id, item, option in rows:
            assert run_id is not None  # an inner join's primary key
            stored.setdefault((telegram_id, run_id), {})[item] = option
        people = {p.user_id: p for p in self.people}
        for (telegram_id, run_id), answers in stored.items():
            person = people.get(telegram_id)
            if person is None:
                continue
            pressed = person.accepted.get(run_id, {})
            unsure = person.unsure.get(run_id, {})
            if any(
                answers.get(item) != pressed.get(item)
                and answers.get(item) not in unsure.get(item, set())
                for item in answers.keys() | pressed.keys()
            ):
                raise WalkFailure(
                    f"seed {self.seed}: run {run_id} of {telegram_id} stores {answers}, "
                    f"the accepted presses were {pressed}"
                )


def summary_counts(text: str) -> dict[str, int]:
    """Reads '• <type name>: <count> (<share> %)' lines of a post into type id -> count."""
    out = {}
    for name, type_id in TYPE_NAMES.items():
        match = re.search(rf"• {re.escape(name)}: (\d+) \(", text)
        if match and int(match[1]):
            out[type_id] = int(match[1])
    return out

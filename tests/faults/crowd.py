"""A crowd that presses random buttons through the bot as a real process, killed half-way.

Each participant is the seeded walker's person (`tests/e2e/walker.py`): any visible button
(language, consent, answers, back, resume, restart, a stale message further up), `/start` with
or without the link, `/language`, `/delete_me`, text, stickers, until they were shown a result
(after a budget of random steps, the obvious buttons lead them there). Unlike the walker, they
act all at once, the bot is `python -m bot.cli run` (polling or webhook), and when half of
them have seen a result it gets SIGKILL and starts again. A press the dead bot never answered
is what a person sees as "nothing happened": they go on, and it may or may not have been
stored.

At the end three tallies must agree: the types announced to participants (their result
captions in the stand-in), what `/summary` posts (privacy threshold 1) and the results stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Participant, Result, Run, Workshop
from tests.e2e.walker import PersonModel, SessionModel, Walker, WalkFailure, summary_counts
from tests.e2e.websession import command, open_session
from tests.faults.harness import (
    GROUP,
    MODERATOR,
    BotSubprocess,
    make_sandbox,
    make_world,
)
from tests.support.database import reading

NOT_MODIFIED = "message is not modified"
AGAIN = "(answered before)"


@dataclass
class CrowdReport:
    """What one crowd run showed: times, the three tallies and Telegram's refusals."""

    people: int
    webhook: bool
    kills: int
    elapsed: float = 0.0
    steps: int = 0
    results: int = 0
    announced: Counter[str] = field(default_factory=Counter)
    summary: dict[str, int] = field(default_factory=dict)
    stored: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # "method: description" of 4xx
    answers_problem: str | None = None
    # (user id, type told, type stored, end of the chat) of each participant where they differ
    differing: list[tuple[int, str | None, str | None, object]] = field(default_factory=list)

    @property
    def not_modified(self) -> int:
        """4xx "message is not modified": the bot treats it as success."""
        return sum(n for what, n in self.refused.items() if NOT_MODIFIED in what)

    @property
    def answered_again(self) -> int:
        """4xx on answering a query a second time: a re-delivered update after the kill."""
        return sum(n for what, n in self.refused.items() if what.endswith(AGAIN))

    @property
    def other_refusals(self) -> dict[str, int]:
        """Every other 4xx: none may happen."""
        return {
            what: n
            for what, n in self.refused.items()
            if NOT_MODIFIED not in what and not what.endswith(AGAIN)
        }

    def line(self) -> str:
        """One printable line."""
        mode = "webhook" if self.webhook else "polling"
        return (
            f"{mode:<8} {self.people:>4} people  kills {self.kills}  {self.elapsed:6.1f} s  "
            f"{self.steps:>5} steps  results shown {self.results:>4}  "
            f"announced {sum(self.announced.values()):>4}  "
            f"summary {sum(self.summary.values()):>4}  stored {sum(self.stored.values()):>4}  "
            f"equal {self.announced == self.stored and dict(self.announced) == self.summary}  "
            f"4xx: not modified {self.not_modified}, query answered again {self.answered_again}, "
            f"other {sum(self.other_refusals.values())}"
        )


class Crowd(Walker):
    """The walker's people, all at once, against a bot process that is killed half-way."""

    def __init__(
        self,
        sandbox: BotApiServer,
        bot: BotSubprocess,
        database_url: str,
        *,
        seed: int,
        people: int,
        steps: int = 30,
        patience: float = 3.0,
        deadline: float = 240.0,
    ) -> None:
        super().__init__(sandbox, bot, seed=seed, people=people, first_user=80_000)  # type: ignore[arg-type]
        self.process = bot
        self.sessions = [SessionModel("A", GROUP, MODERATOR, "Menge & Co <b>")]
        self._database_url = database_url
        self.steps, self.patience = steps, patience
        self.timeout = deadline  # how long a person may stay without any answer at all
        self.step_count = 0
        self.restarted: float | None = None  # when the bot answered again after the kill

    @property
    def database_url(self) -> str:
        return self._database_url

    async def setup(self) -> None:
        """Every participant is a member of the (already made) group; the session opens."""
        for p in self.people:
            self.sandbox.add_user(p.user_id, f"P{p.user_id}", language_code="de")
            self.sandbox.set_member(GROUP, p.user_id, "member")
        s = self.sessions[0]
        s.code = await open_session(self.sandbox, s.moderator, s.chat_id, s.title)

    async def answered(self, query: str) -> dict[str, object] | None:
        """Waits a person's patience for the answer; a dead bot's press stays unanswered."""
        try:
            await self.sandbox.wait_for_answer(query, self.patience)
        except TimeoutError:
            return None
        return self.sandbox.callback_answer(query)

    async def settle(self, user_id: int) -> None:
        """Waits until the bot has handled what this user sent, probing again after a kill."""
        end = time.monotonic() + self.timeout
        while True:
            chat = self.sandbox.messages(user_id)
            target = chat[-1].message_id if chat else 1
            query = self.sandbox.press_button(user_id, target, "_", check=False)
            try:
                await self.sandbox.wait_for_answer(query, self.patience)
                return
            except TimeoutError:
                if time.monotonic() > end:
                    raise WalkFailure(f"user {user_id}: the bot never answered again") from None

    def after_press(self, p: PersonModel, button: dict[str, str], query: str) -> None:
        """As the walker; a toast on a press from before the restart proves nothing.

        The killed process may have stored the press and died before answering it; the update
        delivered again is then a duplicate, answered "already saved" (webhook).
        """
        answer = self.sandbox.callback_answer(query) or {}
        pressed = self.sandbox.bot_state().callback_queries[query].created
        if answer.get("text") and self.restarted is not None and pressed < self.restarted:
            self.unsure(p, button["callback_data"])
        super().after_press(p, button, query)

    async def say(self, p: PersonModel, text: str) -> None:
        """Sends a text and waits for the reply (every text gets one); if none, again.

        Webhook: Telegram delivers texts (per chat) and button presses (per user) in separate
        queues, so the walker's probe press may be answered before the text was handled;
        nothing is lost there, so the person waits for the reply itself. Polling keeps the
        order but loses what the killed process had fetched: no reply after the probe means
        the text was lost, and the person sends it again.
        """
        for _ in range(3):
            # A reply is a new message: an edit may be the tail of what the bot did before.
            last = max((m.message_id for m in self.sandbox.messages(p.user_id)), default=0)
            mark = self.sandbox.mark()
            self.sandbox.send_text(p.user_id, text)
            if self.process.webhook:

                def new(m: StoredMessage, last: int = last) -> bool:
                    return m.message_id > last

                with contextlib.suppress(TimeoutError):
                    await self.sandbox.wait_for(new, 60, chat_id=p.user_id, since=mark)
            await self.settle(p.user_id)
            if any(m.message_id > last for m in self.new_messages(p.user_id, mark)):
                return

    async def play(self, p: PersonModel) -> None:
        """Random steps until a result was shown; then the obvious buttons, if need be."""
        for _ in range(self.steps):
            if p.results:
                return
            self.step_count += 1
            await self.person_step(p)
        for _ in range(2):  # pressing got nowhere: a person sends /start again
            if p.results:
                return
            with contextlib.suppress(WalkFailure):
                await self.finish(p)
        if not p.results:
            try:
                await self.finish(p)
            except WalkFailure as exc:
                raise WalkFailure(
                    f"{exc}; the chat ends with: {self.chat_end(p.user_id)}"
                ) from None

    def chat_end(self, user_id: int, n: int = 12) -> list[tuple[object, ...]]:
        """The last messages of a private chat: id, sender, photo, text and buttons."""
        return [
            (
                m.message_id,
                "bot" if m.from_bot else "user",
                "photo" if m.photo is not None else "",
                (m.text or m.caption or "")[:50],
                [str(b.get("callback_data", "")) for b in m.buttons][:3],
            )
            for m in sorted(self.sandbox.messages(user_id), key=lambda m: m.seq)[-n:]
        ]

    async def run(self, *, kill: bool) -> int:
        """Plays the crowd; SIGKILLs and restarts the bot once half have seen a result."""
        await self.setup()
        crowd = asyncio.gather(*(self.play(p) for p in self.people))
        kills = 0
        if kill:
            notifier = self.sandbox.world.notifier
            while sum(p.results > 0 for p in self.people) < len(self.people) / 2:
                if crowd.done():
                    break
                await notifier.wait(0.2)
            else:
                await self.process.kill()
                kills += 1
                await asyncio.sleep(0.5)
                await self.process.start()
                self.restarted = time.monotonic()
        await crowd
        return kills

    async def stored_by_person(self, s: SessionModel) -> dict[int, str]:
        """Each participant's latest finished run in the session: Telegram id -> type."""
        async with reading(self.database_url) as session:
            rows = (
                await session.execute(
                    select(col(Participant.telegram_id), col(Result.main_type))
                    .join(Run, col(Run.participant_id) == col(Participant.id))
                    .join(Result, col(Result.run_id) == col(Run.id))
                    .join(Workshop, col(Workshop.id) == col(Run.workshop_id))
                    .where(col(Workshop.code) == s.code, col(Run.status) == "finished")
                    .order_by(col(Run.id))
                )
            ).all()
        return {int(uid): str(t) for uid, t in rows}

    async def tally(self, report: CrowdReport) -> None:
        """Fills in the three tallies and the refusals; raises nothing, the caller compares."""
        s = self.sessions[0]
        report.steps, report.results = self.step_count, self.coverage.results
        report.announced = Counter(p.told[s.name] for p in self.people if s.name in p.told)
        report.stored = await self.stored_types(s)
        post = await command(
            self.sandbox,
            s.moderator,
            s.chat_id,
            "/summary",
            lambda m: "D-Team" in (m.text or "") or "noch" in (m.text or ""),
            timeout=60,
        )
        report.summary = summary_counts(post.text or "")
        stored = await self.stored_by_person(s)
        for person in self.people:
            told = person.told.get(s.name)
            if told != stored.get(person.user_id):
                report.differing.append(
                    (
                        person.user_id,
                        told,
                        stored.get(person.user_id),
                        self.chat_end(person.user_id),
                    )
                )
        try:
            await self.check_answers()
        except WalkFailure as exc:
            report.answers_problem = str(exc)
        report.refused = refusals(self.sandbox)


def refusals(server: BotApiServer) -> Counter[str]:
    """Counts the 4xx the stand-in gave, by method and description.

    A callback answer refused as too old is told apart: a second answer to a query answered
    before (a re-delivered update the killed process had answered), or a first one too late.
    """
    answered: set[str] = set()
    out: Counter[str] = Counter()
    for c in server.calls:
        query = str(c.params.get("callback_query_id", ""))
        if c.method == "answerCallbackQuery" and c.status == 200:
            answered.add(query)
        if not 400 <= c.status < 500:
            continue
        what = f"{c.method}: {c.description}"
        if c.method == "answerCallbackQuery":
            what += f" {AGAIN}" if query in answered else " (first answer)"
        out[what] += 1
    return out


async def crowd_run(
    database_url: str,
    log: Path,
    *,
    people: int,
    webhook: bool,
    kill: bool = True,
    seed: int = 1,
) -> CrowdReport:
    """One crowd against a fresh stand-in and the bot as a process; returns what it showed."""
    server = make_sandbox()
    await server.start()
    make_world(server)
    bot = BotSubprocess(server, database_url, log, webhook=webhook)
    bot.env["DTEAM_PRIVACY_THRESHOLD"] = "1"  # /summary must show every finisher
    report = CrowdReport(people, webhook, 0)
    try:
        await bot.start()
        crowd = Crowd(server, bot, database_url, seed=seed, people=people)
        started = time.monotonic()
        report.kills = await crowd.run(kill=kill)
        report.elapsed = time.monotonic() - started
        await crowd.tally(report)
    finally:
        await bot.stop()
        await server.stop()
    return report

"""A participant's steps in the Mini App, on the chat flow's storage functions and rules.

Every write records an update id in the same transaction, as the chat's buttons do: the app
sends a fresh request id with each action, and a retried request (the network dropped the
answer, not the request) writes nothing twice. Workshop membership is decided as /start does.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import User

from handlers.core.context import Services
from handlers.core.flow import count_for, joined_open, language_of, open_run, participant_for
from handlers.core.moderation import title_of
from storage.models import Participant, Run, Workshop
from storage.participants import get_participant, set_consent, set_joined, set_language
from storage.runs import (
    IN_PROGRESS,
    active_run,
    as_classification,
    get_answers,
    get_result,
    get_run,
    latest_finished_run,
    mark_processed,
    move_to,
)
from storage.taps import Written, read_tap, write_answer
from storage.types import pk
from storage.workshops import OPEN, get_workshop_by_code
from typology.questionnaire import SKIP
from typology.scoring import AnswerError
from typology.scoring import Result as Classification

log = logging.getLogger(__name__)
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Refused(Exception):
    """The request names a run, question or option that is not the user's: a forgery."""


@dataclass
class Switch:
    """A run in progress elsewhere, and the open workshop the app's link names."""

    code: str  # the linked workshop's join code, as the chat's switch button carries it
    title: str  # the linked workshop's title
    current: str | None  # the title of the workshop the run counts for now; None: solo
    n: int  # the question the run is at
    total: int


@dataclass
class View:
    """What the app shows after a request."""

    lang: str
    consent: bool = False
    run: Run | None = None  # in progress
    answers: dict[str, str] = field(default_factory=dict)
    result: Classification | None = None  # of the latest finished run, when none is running
    workshop: str | None = None  # the title of the open workshop the answers count for
    notice: str | None = None  # a chat text key (plain text in the app)
    notice_values: dict[str, str] = field(default_factory=dict)
    finished_now: Run | None = None  # finished by this request: its result goes to the chat
    switch: Switch | None = None  # ask which workshop the run in progress counts for


def update_id_for(user_id: int, request_id: str) -> int:
    """Returns the update id of an app request: negative, so never one of Telegram's."""
    digest = hashlib.sha256(f"webapp:{user_id}:{request_id}".encode()).digest()
    return -1 - int.from_bytes(digest[:7], "big")


async def _fill(session: AsyncSession, services: Services, view: View, who: Participant) -> View:
    """Adds the run in progress (or the last result) and the workshop to view."""
    view.consent = who.consent_at is not None
    assert who.id is not None
    view.run = await active_run(session, participant_id=who.id)
    if view.run is not None:
        assert view.run.id is not None
        view.answers = await get_answers(session, run_id=view.run.id)
    else:
        finished = await latest_finished_run(session, participant_id=who.id)
        row = None if finished is None else await get_result(session, run_id=finished.id or 0)
        if finished is not None and row is not None:
            version = finished.questionnaire_version
            view.result = as_classification(row, questionnaire_version=version)
    joined = await joined_open(session, who)
    view.workshop = None if joined is None else title_of(services, joined, view.lang)
    return view


async def open_app(services: Services, user: User, *, join: str | None) -> View:
    """Greets the user as /start does: joins the workshop of a startapp link, finds the run."""
    async with services.db.write() as session:
        who = await participant_for(session, services, user)
        view = View(language_of(services, who, user))
        if join:
            await _join(session, services, view, who, join)
        return await _fill(session, services, view, who)


async def _join(
    session: AsyncSession, services: Services, view: View, who: Participant, code: str
) -> None:
    linked = await get_workshop_by_code(session, code=code) if _CODE.match(code) else None
    if linked is None:
        view.notice = "start.unknown_code"
        return
    if linked.status != OPEN:
        view.notice, view.notice_values = (
            "start.closed",
            {"title": title_of(services, linked, view.lang)},
        )
        return
    assert who.id is not None
    running = await active_run(session, participant_id=who.id)
    # As /start: a run in progress for another workshop is not moved by a link alone; the
    # app asks which workshop it counts for, and `switch` moves it.
    if running is None or running.workshop_id == linked.id:
        await set_joined(session, participant=who, workshop_id=linked.id)
        return
    current = None
    if running.workshop_id is not None:
        running_in = await session.get(Workshop, running.workshop_id)
        current = None if running_in is None else title_of(services, running_in, view.lang)
    ids = [it.id for it in services.questionnaire_for(running.questionnaire_version).items]
    view.switch = Switch(
        code=linked.code,
        title=title_of(services, linked, view.lang),
        current=current,
        n=ids.index(running.current_item) + 1 if running.current_item in ids else 1,
        total=len(ids),
    )


async def switch(
    services: Services, user: User, *, run_id: int, code: str, update_id: int
) -> View:
    """Lets the run in progress count for the open workshop of code, answers kept (as the
    chat's switch button does); a closed workshop leaves everything as it was."""
    async with services.db.write() as session:
        is_new = await mark_processed(session, update_id=update_id)
        who = await get_participant(session, telegram_id=user.id)
        linked = await get_workshop_by_code(session, code=code) if _CODE.match(code) else None
        running = None if who is None else await active_run(session, participant_id=pk(who))
        if who is None or linked is None or running is None or running.id != run_id:
            raise Refused("no such workshop, or not this user's run in progress")
        view = View(language_of(services, who, user))
        if linked.status != OPEN:
            view.notice = "start.closed"
            view.notice_values = {"title": title_of(services, linked, view.lang)}
        elif is_new:
            await count_for(session, services, participant=who, workshop_id=linked.id)
        return await _fill(session, services, view, who)


async def resume(services: Services, user: User) -> View:
    """Shows where the participant is, changing nothing (the chat's "carry on" button)."""
    async with services.db.read() as session:
        who = await get_participant(session, telegram_id=user.id)
        if who is None:
            raise Refused("no participant")
        return await _fill(session, services, View(language_of(services, who, user)), who)


async def consent(services: Services, user: User, *, update_id: int) -> View:
    """Records consent and starts the questionnaire (in the joined session, if any)."""
    async with services.db.write() as session:
        await mark_processed(session, update_id=update_id)
        who = await participant_for(session, services, user)
        view = View(language_of(services, who, user))
        await set_consent(session, participant=who)
        joined = await joined_open(session, who)
        if joined is None and who.joined_workshop_id is not None:
            closed = await session.get(Workshop, who.joined_workshop_id)
            if closed is not None:
                view.notice = "start.closed"
                view.notice_values = {"title": title_of(services, closed, view.lang)}
        assert who.id is not None
        if await active_run(session, participant_id=who.id) is None:
            await open_run(
                session, services, participant=who, workshop_id=joined.id if joined else None
            )
        return await _fill(session, services, view, who)


async def restart(services: Services, user: User, *, update_id: int) -> View:
    """Starts the questionnaire again from the first question, for the joined session."""
    async with services.db.write() as session:
        is_new = await mark_processed(session, update_id=update_id)
        who = await get_participant(session, telegram_id=user.id)
        if who is None:
            raise Refused("no participant")
        view = View(language_of(services, who, user))
        if is_new and who.consent_at is not None:
            joined = await joined_open(session, who)
            await open_run(
                session, services, participant=who, workshop_id=joined.id if joined else None
            )
        return await _fill(session, services, view, who)


async def language(services: Services, user: User, *, lang: str, update_id: int) -> View:
    """Switches the participant's language (both flows use it from now on)."""
    async with services.db.write() as session:
        await mark_processed(session, update_id=update_id)
        who = await get_participant(session, telegram_id=user.id)
        if who is None:
            raise Refused("no participant")
        await set_language(session, participant=who, language=lang)
        return await _fill(session, services, View(lang), who)


async def back(
    services: Services, user: User, *, run_id: int, item_id: str, update_id: int
) -> View:
    """Goes back to the question before item_id, keeping its answer (as the chat's back)."""
    async with services.db.write() as session:
        is_new = await mark_processed(session, update_id=update_id)
        who = await get_participant(session, telegram_id=user.id)
        run = await get_run(session, run_id=run_id, lock=True)
        version = run.questionnaire_version if run is not None else None
        ids = [it.id for it in services.questionnaire_for(version).items]
        if who is None or run is None or run.participant_id != who.id or item_id not in ids:
            raise Refused("not this user's run or question")
        view = View(language_of(services, who, user))
        if run.status != IN_PROGRESS:
            view.notice = "question.run_over"
        elif is_new and item_id == run.current_item and ids.index(item_id) > 0:
            await move_to(session, run=run, item_id=ids[ids.index(item_id) - 1])
        return await _fill(session, services, view, who)


async def answer(
    services: Services, user: User, *, run_id: int, item_id: str, option_id: str, update_id: int
) -> View:
    """Stores an answer and moves on, or finishes and scores the run: the chat's tap path."""
    tap = await services.db.read_sync(
        partial(read_tap, run_id=run_id, telegram_id=user.id, pressed_message_id=0)
    )
    found = tap.found
    if found is None:
        raise Refused("not this user's run")
    run = found.run
    q = services.questionnaire_for(run.questionnaire_version)
    if not q.accepts(item_id, option_id):
        raise Refused("no such question or option")
    view = View(language_of(services, found.participant, user), consent=True)
    if run.status != IN_PROGRESS or item_id != run.current_item:
        return await _reread(services, user, view, "question.stale")
    answers = found.answers | {item_id: option_id}
    nxt, result = q.next_item(item_id, answers), None
    if nxt is None:
        try:
            scored = {k: v for k, v in answers.items() if v != SKIP}
            result = services.model_for(run.questionnaire_version).classify(q, scored)
        except AnswerError as exc:
            log.error("run %s cannot be classified (%s); asking again", run.id, exc)
            nxt = next(i.id for i in q.items if i.id not in answers)
    written = await services.db.write_sync(
        partial(
            write_answer,
            update_id=update_id,
            run_id=run_id,
            item_id=item_id,
            option_id=option_id,
            next_item=nxt,
            result=result,
            workshop_id=run.workshop_id,
        )
    )
    if written is Written.DUPLICATE:  # the same request again: show where it led
        return await _reread(services, user, view, None)
    if written is Written.STALE:
        return await _reread(services, user, view, "question.stale")
    view.answers = answers
    if result is None:
        run.current_item = nxt
        view.run = run
    else:
        run.current_item, view.result, view.finished_now = None, result, run
    if found.workshop is not None and found.workshop.status == OPEN:
        view.workshop = title_of(services, found.workshop, view.lang)
    return view


async def _reread(services: Services, user: User, view: View, notice: str | None) -> View:
    async with services.db.read() as session:
        who = await get_participant(session, telegram_id=user.id)
        if who is None:
            raise Refused("no participant")
        view.notice = notice
        return await _fill(session, services, view, who)

"""Shared steps of the participant journey: transactions, starting runs, showing questions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update, User

from handlers.core import outcome, render
from handlers.core.context import DTeamContext, Services
from handlers.core.sending import edit_or_send
from storage.models import Participant, Run, Workshop
from storage.participants import get_or_create_participant, get_participant, set_joined
from storage.runs import active_run, get_answers, mark_processed, move_run, start_run
from storage.taps import set_run_message
from storage.types import pk
from storage.workshops import OPEN, mark_live_dirty

log = logging.getLogger(__name__)


def note_duplicate(update: Update) -> None:
    """Logs and counts an update whose writes were committed before (a redelivery)."""
    log.info("update %s was processed before; not writing again", update.update_id)
    outcome.duplicate()


@asynccontextmanager
async def write_tx(ctx: DTeamContext, update: Update) -> AsyncIterator[tuple[AsyncSession, bool]]:
    """Opens a write transaction that also records the update id; yields (session, is_new)."""
    async with ctx.services.db.write() as session:
        is_new = await mark_processed(session, update_id=update.update_id)
        if not is_new:
            note_duplicate(update)
        yield session, is_new


def language_of(services: Services, participant: Participant | None, user: User | None) -> str:
    """Returns the participant's language, else the client's, else the default."""
    if participant is not None and participant.language:
        return services.texts.language(participant.language)
    code = (user.language_code or "")[:2] if user else ""
    return code if code in ("de", "en") else services.default_language


async def participant_for(session: AsyncSession, services: Services, user: User) -> Participant:
    """Returns the participant for a Telegram user, creating them on first contact."""
    return await get_or_create_participant(
        session,
        telegram_id=user.id,
        first_name=user.first_name,
        language=language_of(services, None, user),
    )


async def consented(session: AsyncSession, user: User) -> Participant | None:
    """Returns the participant if they agreed to the privacy note; never creates one.

    Settings (reminders, first name, language) are stored only for people who took part:
    a command or a forged button from anyone else must not leave a row behind.
    """
    found = await get_participant(session, telegram_id=user.id)
    return found if found is not None and found.consent_at is not None else None


BUTTON_TITLE = 40  # characters of a workshop title on a button; Telegram cuts long labels


def button_title(title: str) -> str:
    """Returns a workshop title short enough for a button label."""
    return title if len(title) <= BUTTON_TITLE else title[: BUTTON_TITLE - 1].rstrip() + "…"


async def joined_open(session: AsyncSession, participant: Participant) -> Workshop | None:
    """Returns the workshop the participant's answers count for, if it is open now."""
    if participant.joined_workshop_id is None:
        return None
    workshop = await session.get(Workshop, participant.joined_workshop_id)
    return workshop if workshop is not None and workshop.status == OPEN else None


async def open_run(
    session: AsyncSession,
    services: Services,
    *,
    participant: Participant,
    workshop_id: int | None,
    message_id: int | None = None,
) -> Run:
    """Starts a fresh run at the first question (abandoning any run in progress).

    message_id: the message that will show the first question (edited in place), if known.
    """
    q = services.questionnaire
    run = await start_run(
        session,
        participant_id=pk(participant),
        workshop_id=workshop_id,
        questionnaire_version=q.version,
        language=language_of(services, participant, None),
        first_item=q.items[0].id,
        message_id=message_id,
    )
    if workshop_id is not None:
        await mark_live_dirty(session, workshop_id=workshop_id)
    return run


async def count_for(
    session: AsyncSession, services: Services, *, participant: Participant, workshop_id: int | None
) -> Run:
    """Makes the answers count for workshop_id (None: on one's own) and returns the run.

    A run in progress moves there with its answers; else a fresh run starts. The chat's join
    and switch buttons and the Mini App's switch all go through here, so both flows count a
    person in the same workshop, once.
    """
    await set_joined(session, participant=participant, workshop_id=workshop_id)
    run = await active_run(session, participant_id=pk(participant))
    if run is None:
        return await open_run(session, services, participant=participant, workshop_id=workshop_id)
    left = await move_run(session, run=run, workshop_id=workshop_id)
    for wid in {w for w in (left, workshop_id) if w is not None}:
        await mark_live_dirty(session, workshop_id=wid)
    return run


async def show_current(
    ctx: DTeamContext,
    *,
    chat_id: int,
    run: Run,
    lang: str,
    message_id: int | None,
    answers: Mapping[str, str] | None = None,
) -> None:
    """Shows the run's current question, editing message_id if given, and remembers it."""
    services = ctx.services
    if answers is None:
        async with services.db.read() as session:
            answers = await get_answers(session, run_id=pk(run))
    assert run.current_item is not None
    assert run.id is not None
    text, markup = render.question(
        services,
        run_id=run.id,
        item_id=run.current_item,
        answers=answers,
        lang=lang,
        version=run.questionnaire_version,
    )
    shown = await edit_or_send(ctx, chat_id, message_id, text, markup)
    if shown is not None and shown != run.message_id:
        await remember_message(services, run, shown)


async def remember_message(
    services: Services, run: Run, message_id: int, *, result: bool = False
) -> None:
    """Stores which message shows the run now (one short write: 200 may finish at once)."""
    assert run.id is not None
    await services.db.write_sync(
        partial(set_run_message, run_id=run.id, message_id=message_id, result=result)
    )
    run.message_id = message_id

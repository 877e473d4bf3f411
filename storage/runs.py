"""Queries about questionnaire runs, their answers and results, and processed updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Select, Update, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import Answer, Participant, ProcessedUpdate, Result, Run, Workshop
from storage.types import utcnow
from typology.scoring import Result as Classification
from typology.types import TypeId

IN_PROGRESS = "in_progress"
FINISHED = "finished"
ABANDONED = "abandoned"


def _insert(session: AsyncSession | Session) -> Any:
    """Returns the dialect's INSERT (both have ON CONFLICT, with different classes)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _processed(session: AsyncSession | Session, update_id: int) -> Any:
    return (
        _insert(session)(ProcessedUpdate)
        .values(update_id=update_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["update_id"])
    )


async def mark_processed(session: AsyncSession, *, update_id: int) -> bool:
    """Records the update id in this transaction; False when it was processed before."""
    res = await session.execute(_processed(session, update_id))
    return bool(getattr(res, "rowcount", 0))


async def start_run(
    session: AsyncSession,
    *,
    participant_id: int,
    workshop_id: int | None,
    questionnaire_version: str,
    language: str,
    first_item: str,
) -> Run:
    """Starts a new run; any run still in progress for the participant is abandoned."""
    await session.execute(
        update(Run)
        .where(col(Run.participant_id) == participant_id, col(Run.status) == IN_PROGRESS)
        .values(status=ABANDONED, updated_at=utcnow())
    )
    run = Run(
        participant_id=participant_id,
        workshop_id=workshop_id,
        questionnaire_version=questionnaire_version,
        language=language,
        current_item=first_item,
    )
    session.add(run)
    await session.flush()
    return run


async def active_run(session: AsyncSession, *, participant_id: int) -> Run | None:
    """Returns the participant's run in progress, if any."""
    res = await session.execute(
        select(Run)
        .where(col(Run.participant_id) == participant_id, col(Run.status) == IN_PROGRESS)
        .order_by(col(Run.id).desc())
        .limit(1)
    )
    return res.scalar_one_or_none()


async def latest_finished_run(session: AsyncSession, *, participant_id: int) -> Run | None:
    """Returns the participant's most recent finished run, if any."""
    res = await session.execute(
        select(Run)
        .where(col(Run.participant_id) == participant_id, col(Run.status) == FINISHED)
        .order_by(col(Run.id).desc())
        .limit(1)
    )
    return res.scalar_one_or_none()


async def get_run(session: AsyncSession, *, run_id: int, lock: bool = False) -> Run | None:
    """Returns a run; with lock, holds it FOR UPDATE (PostgreSQL) until the transaction ends."""
    stmt = select(Run).where(col(Run.id) == run_id)
    if lock:
        stmt = stmt.with_for_update()
    res = await session.execute(stmt)
    return res.scalar_one_or_none()


def _answer(session: AsyncSession | Session, run_id: int, item_id: str, option_id: str) -> Any:
    now = utcnow()
    return (
        _insert(session)(Answer)
        .values(run_id=run_id, item_id=item_id, option_id=option_id, answered_at=now)
        .on_conflict_do_update(
            index_elements=["run_id", "item_id"],
            set_={"option_id": option_id, "answered_at": now},
        )
    )


async def record_answer(
    session: AsyncSession, *, run_id: int, item_id: str, option_id: str
) -> None:
    """Stores the answer to one question, replacing an earlier answer to it."""
    await session.execute(_answer(session, run_id, item_id, option_id))


async def get_answers(session: AsyncSession, *, run_id: int) -> dict[str, str]:
    """Returns the run's answers as item id -> option id."""
    res = await session.execute(
        select(col(Answer.item_id), col(Answer.option_id)).where(col(Answer.run_id) == run_id)
    )
    return dict(res.all())


async def move_to(session: AsyncSession, *, run: Run, item_id: str | None) -> None:
    """Sets the question the run is at."""
    run.current_item = item_id
    run.updated_at = utcnow()
    session.add(run)


async def set_run_message(session: AsyncSession, *, run: Run, message_id: int) -> None:
    """Remembers the private message that shows the run's current question."""
    run.message_id = message_id
    await session.execute(update(Run).where(col(Run.id) == run.id).values(message_id=message_id))


async def finish_run(session: AsyncSession, *, run: Run, result: Classification) -> Result:
    """Marks the run finished and stores its classification."""
    now = utcnow()
    run.status = FINISHED
    run.current_item = None
    run.finished_at = now
    run.updated_at = now
    session.add(run)
    assert run.id is not None
    row = _result_row(run.id, result, now)
    await session.merge(row)
    return row


async def get_result(session: AsyncSession, *, run_id: int) -> Result | None:
    """Returns the stored classification of a run."""
    return await session.get(Result, run_id)


def as_classification(row: Result, *, questionnaire_version: str) -> Classification:
    """Turns a stored result back into the typology's value type (for showing it again)."""
    return Classification(
        main_type=TypeId(row.main_type),
        second_type=TypeId(row.second_type),
        mixed=row.mixed,
        affinities={TypeId(k): float(v) for k, v in row.affinities.items()},
        deciding=list(row.deciding),
        profile=dict(row.profile),
        model_version=row.model_version,
        questionnaire_version=questionnaire_version,
    )


@dataclass(frozen=True)
class RunState:
    """A run with its participant, workshop and answers, read in one round trip."""

    run: Run
    participant: Participant
    workshop: Workshop | None
    answers: dict[str, str]


@dataclass(frozen=True)
class TapState:
    """What a button press on a run's message needs to know, read in one hop."""

    found: RunState | None  # None: not this user's run (or no such run)
    participant: Participant | None
    unseen: Classification | None  # a finished run's result its owner never saw


def _run_state(run_id: int, telegram_id: int) -> Select[Run, Participant, Workshop, str, str]:
    return (
        select(Run, Participant, Workshop, col(Answer.item_id), col(Answer.option_id))
        .join(Participant, col(Participant.id) == col(Run.participant_id))
        .outerjoin(Workshop, col(Workshop.id) == col(Run.workshop_id))
        .outerjoin(Answer, col(Answer.run_id) == col(Run.id))
        .where(col(Run.id) == run_id, col(Participant.telegram_id) == telegram_id)
    )


def read_tap(
    session: Session, *, run_id: int, telegram_id: int, pressed_message_id: int
) -> TapState:
    """Reads the run if it is this Telegram user's, its answers, and a result not yet shown.

    A finished run whose question message still had buttons when pressed was never shown its
    result: showing the result replaces that message (the bot stopped in between).
    """
    rows = session.execute(_run_state(run_id, telegram_id)).all()
    if not rows:
        participant = session.execute(
            select(Participant).where(col(Participant.telegram_id) == telegram_id)
        ).scalar_one_or_none()
        return TapState(None, participant, None)
    answers = {item: option for *_, item, option in rows if item is not None}
    found = RunState(rows[0][0], rows[0][1], rows[0][2], answers)
    unseen = None
    if found.run.status == FINISHED and found.run.message_id == pressed_message_id:
        row = session.get(Result, run_id)
        if row is not None:
            unseen = as_classification(row, questionnaire_version=found.run.questionnaire_version)
    return TapState(found, found.participant, unseen)


class Written(Enum):
    """What became of an answer sent to write_answer."""

    DONE = "done"
    DUPLICATE = "duplicate"  # this update was processed before
    STALE = "stale"  # the run had moved on (a double tap or a race): nothing written


def _move_from(run_id: int, from_item: str, values: dict[str, object], detach: bool) -> Update:
    """Updates the run only while it is in progress at from_item.

    The condition on current_item makes a double tap or a race lose cleanly, without a lock.
    """
    if detach:
        values = values | {"workshop_id": None}
    return (
        update(Run)
        .where(
            col(Run.id) == run_id,
            col(Run.status) == IN_PROGRESS,
            col(Run.current_item) == from_item,
        )
        .values(**values)
    )


def write_answer(
    session: Session,
    *,
    update_id: int,
    run_id: int,
    item_id: str,
    option_id: str,
    next_item: str | None,
    result: Classification | None,
    detach: bool,
    workshop_id: int | None,
) -> Written:
    """Stores one answer and moves the run to next_item, or finishes it with result.

    One transaction (the caller's): the update id for deduplication, the optimistic move, the
    answer, the live message's dirty flag. Nothing is written unless all of it is.
    """
    if not getattr(session.execute(_processed(session, update_id)), "rowcount", 0):
        return Written.DUPLICATE
    now = utcnow()
    values: dict[str, object]
    if result is not None:
        values = {"status": FINISHED, "current_item": None, "finished_at": now, "updated_at": now}
    else:
        if next_item is None:
            raise ValueError("an answer that does not finish the run needs next_item")
        values = {"current_item": next_item, "updated_at": now}
    if not getattr(session.execute(_move_from(run_id, item_id, values, detach)), "rowcount", 0):
        return Written.STALE  # the update id stays recorded: a redelivery is stale as well
    session.execute(_answer(session, run_id, item_id, option_id))
    if result is not None:
        session.add(_result_row(run_id, result, now))
    if workshop_id is not None and not detach:
        session.execute(
            update(Workshop).where(col(Workshop.id) == workshop_id).values(live_dirty=True)
        )
    return Written.DONE


def _result_row(run_id: int, result: Classification, now: datetime) -> Result:
    return Result(
        run_id=run_id,
        main_type=str(result.main_type),
        second_type=str(result.second_type),
        mixed=result.mixed,
        affinities={str(k): float(v) for k, v in result.affinities.items()},
        deciding=list(result.deciding),
        profile={str(k): float(v) for k, v in result.profile.items()},
        model_version=result.model_version,
        created_at=now,
    )

"""Queries about questionnaire runs, their answers and results, and processed updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.locks import lock_participant
from storage.models import Answer, ProcessedUpdate, Result, Run
from storage.types import utcnow
from typology.scoring import Result as Classification
from typology.types import TypeId

IN_PROGRESS = "in_progress"
FINISHED = "finished"
ABANDONED = "abandoned"


def _insert(session: AsyncSession) -> Any:
    """Returns the dialect's INSERT (both have ON CONFLICT, with different classes)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def mark_processed(session: AsyncSession, *, update_id: int) -> bool:
    """Records the update id in this transaction; False when it was processed before."""
    stmt = (
        _insert(session)(ProcessedUpdate)
        .values(update_id=update_id, processed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    res = await session.execute(stmt)
    return bool(getattr(res, "rowcount", 0))


async def start_run(
    session: AsyncSession,
    *,
    participant_id: int,
    workshop_id: int | None,
    questionnaire_version: str,
    language: str,
    first_item: str,
    message_id: int | None = None,
) -> Run:
    """Starts a new run; any run still in progress for the participant is abandoned.

    message_id: the private message that will show its first question, when known already.
    """
    # One run in progress per person: starts at the same time (PostgreSQL writes side by side,
    # and the Mini App lets two requests of a user through) wait here for each other, so the
    # later one abandons the earlier one's run instead of missing it. SQLite has one writer.
    await lock_participant(session, participant_id=participant_id)
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
        message_id=message_id,
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


async def record_answer(
    session: AsyncSession, *, run_id: int, item_id: str, option_id: str
) -> None:
    """Stores the answer to one question, replacing an earlier answer to it."""
    now = utcnow()
    stmt = (
        _insert(session)(Answer)
        .values(run_id=run_id, item_id=item_id, option_id=option_id, answered_at=now)
        .on_conflict_do_update(
            index_elements=["run_id", "item_id"],
            set_={"option_id": option_id, "answered_at": now},
        )
    )
    await session.execute(stmt)


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


async def finish_run(session: AsyncSession, *, run: Run, result: Classification) -> Result:
    """Marks the run finished and stores its classification."""
    now = utcnow()
    run.status = FINISHED
    run.current_item = None
    run.finished_at = now
    run.updated_at = now
    session.add(run)
    assert run.id is not None
    row = result_row(run.id, result, now)
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


def result_row(run_id: int, result: Classification, now: datetime) -> Result:
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


async def move_run(session: AsyncSession, *, run: Run, workshop_id: int | None) -> int | None:
    """Lets a run in progress count for another workshop (or none); returns the one it left."""
    left = run.workshop_id
    if left != workshop_id:
        run.workshop_id = workshop_id
        run.updated_at = utcnow()
        session.add(run)
    return left

"""The button-press path: read a run's state and store one answer, one hop and few CPU cycles.

Every answer tap runs these two functions, so their statements are built once, with bound
parameters, instead of per call: building SQLAlchemy expressions and their cache keys cost
more CPU than SQLite takes to execute them (bench_journey; profile in the commit message).
They run inside Database.read_sync/write_sync, in a thread on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.models import Answer, Participant, ProcessedUpdate, Result, Run, Workshop
from storage.runs import FINISHED, IN_PROGRESS, as_classification, result_row
from storage.types import utcnow
from typology.scoring import Result as Classification


@dataclass(frozen=True)
class RunState:
    """A run with its participant, workshop and answers, read in one round trip."""

    run: Run
    participant: Participant
    workshop: Workshop | None
    answers: dict[str, str]


@dataclass(frozen=True)
class TapState:
    """What a button press on a run's message needs to know."""

    found: RunState | None  # None: not this user's run (or no such run)
    participant: Participant | None
    unseen: Classification | None  # a finished run's result its owner never saw


class Written(Enum):
    """What became of an answer given to write_answer."""

    DONE = "done"
    DUPLICATE = "duplicate"  # this update was processed before: nothing written again
    STALE = "stale"  # the run had moved on (a double tap or a race): the answer not written


_RUN_STATE = (
    select(Run, Participant, Workshop, col(Answer.item_id), col(Answer.option_id))
    .join(Participant, col(Participant.id) == col(Run.participant_id))
    .outerjoin(Workshop, col(Workshop.id) == col(Run.workshop_id))
    .outerjoin(Answer, col(Answer.run_id) == col(Run.id))
    .where(col(Run.id) == bindparam("run_id"), col(Participant.telegram_id) == bindparam("tg"))
)
_PARTICIPANT = select(Participant).where(col(Participant.telegram_id) == bindparam("tg"))
_SET_MESSAGE = (
    update(Run).where(col(Run.id) == bindparam("run_id")).values(message_id=bindparam("shown"))
)
# The result card shown: updated_at moves past finished_at (see result_unseen).
_SET_RESULT_MESSAGE = (
    update(Run)
    .where(col(Run.id) == bindparam("run_id"))
    .values(message_id=bindparam("shown"), updated_at=bindparam("now"))
)
_LIVE_DIRTY = (
    update(Workshop).where(col(Workshop.id) == bindparam("workshop_id")).values(live_dirty=True)
)


@cache
def _inserts(dialect: str) -> tuple[Any, Any]:
    """The dialect's deduplicating INSERT of an update id and its answer upsert."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    processed = (
        insert(ProcessedUpdate)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    answer = (
        insert(Answer)
        .values(
            run_id=bindparam("run_id"),
            item_id=bindparam("item_id"),
            option_id=bindparam("option_id"),
            answered_at=bindparam("now"),
        )
        .on_conflict_do_update(
            index_elements=["run_id", "item_id"],
            set_={"option_id": bindparam("option_id"), "answered_at": bindparam("now")},
        )
    )
    return processed, answer


# The workshop a finished run counts for is decided when it finishes, in the same statement:
# the one its participant joined (by link or choice), if that is open now; else none. A run
# begun while that workshop was closed, or moved by a choice meanwhile, lands where promised.
_COUNTS_FOR = (
    select(col(Workshop.id))
    .join(Participant, col(Participant.joined_workshop_id) == col(Workshop.id))
    .where(col(Participant.id) == col(Run.participant_id), col(Workshop.status) == "open")
    .scalar_subquery()
)


@cache
def _move(*, finish: bool) -> Update:
    """Moves a run on only while it is in progress at :from_item.

    The condition on current_item makes a double tap or a race lose cleanly, without a lock.
    """
    values: dict[str, Any] = {"updated_at": bindparam("now")}
    if finish:
        values |= {
            "status": FINISHED,
            "current_item": None,
            "finished_at": bindparam("now"),
            "workshop_id": _COUNTS_FOR,
        }
    else:
        values["current_item"] = bindparam("next_item")
    return (
        update(Run)
        .where(
            col(Run.id) == bindparam("run_id"),
            col(Run.status) == IN_PROGRESS,
            col(Run.current_item) == bindparam("from_item"),
        )
        .values(**values)
    )


_COUNTED = select(col(Run.workshop_id)).where(col(Run.id) == bindparam("run_id"))


def read_tap(
    session: Session, *, run_id: int, telegram_id: int, pressed_message_id: int
) -> TapState:
    """Reads the run if it is this Telegram user's, its answers, and a result not yet shown.

    A finished run whose question message still had buttons when pressed was never shown its
    result: showing the result replaces that message (the bot stopped in between).
    """
    rows = session.execute(_RUN_STATE, {"run_id": run_id, "tg": telegram_id}).all()
    if not rows:
        participant = session.execute(_PARTICIPANT, {"tg": telegram_id}).scalar_one_or_none()
        return TapState(None, participant, None)
    answers = {item: option for *_, item, option in rows if item is not None}
    found = RunState(rows[0][0], rows[0][1], rows[0][2], answers)
    unseen = None
    if found.run.status == FINISHED and found.run.message_id == pressed_message_id:
        row = session.get(Result, run_id)
        if row is not None:
            unseen = as_classification(row, questionnaire_version=found.run.questionnaire_version)
    return TapState(found, found.participant, unseen)


def write_answer(
    session: Session,
    *,
    update_id: int,
    run_id: int,
    item_id: str,
    option_id: str,
    next_item: str | None,
    result: Classification | None,
    workshop_id: int | None,
) -> Written:
    """Stores one answer and moves the run to next_item, or finishes it with result.

    All in the caller's transaction: the update id for deduplication, the optimistic move,
    the answer, the result, the live message's dirty flag (of the workshop the run was in and,
    on finishing, of the one it counts for).
    """
    if result is None and next_item is None:
        raise ValueError("an answer that does not finish the run needs next_item")
    conn = session.connection()
    processed, answer = _inserts(conn.dialect.name)
    now = utcnow()
    if not conn.execute(processed, {"update_id": update_id, "now": now}).rowcount:
        return Written.DUPLICATE
    move = _move(finish=result is not None)
    params = {"run_id": run_id, "from_item": item_id, "next_item": next_item, "now": now}
    if not conn.execute(move, params).rowcount:
        return Written.STALE  # the update id stays recorded: a redelivery is stale as well
    conn.execute(
        answer, {"run_id": run_id, "item_id": item_id, "option_id": option_id, "now": now}
    )
    dirty = {workshop_id}
    if result is not None:
        session.add(result_row(run_id, result, now))
        dirty.add(conn.execute(_COUNTED, {"run_id": run_id}).scalar_one_or_none())
    for wid in dirty - {None}:
        conn.execute(_LIVE_DIRTY, {"workshop_id": wid})
    return Written.DONE


def set_run_message(
    session: Session, *, run_id: int, message_id: int, result: bool = False
) -> None:
    """Remembers the private message that shows the run's current question (or its result)."""
    if result:
        params = {"run_id": run_id, "shown": message_id, "now": utcnow()}
        session.connection().execute(_SET_RESULT_MESSAGE, params)
        return
    session.connection().execute(_SET_MESSAGE, {"run_id": run_id, "shown": message_id})


def result_unseen(run: Run) -> bool:
    """Tells whether a finished run's result card was never shown (the bot died before).

    Finishing sets updated_at and finished_at to the same instant; showing the card moves
    updated_at on (set_run_message with result=True), and nothing else touches a finished run's.
    """
    return (
        run.status == FINISHED
        and run.finished_at is not None
        and (run.updated_at == run.finished_at)
    )

"""The tap path (storage/taps.py, Database.read_sync/write_sync) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.database import Database, NestedWriteError
from storage.models import Answer, Participant, ProcessedUpdate, Result, Run, Workshop
from storage.participants import get_or_create_participant
from storage.runs import FINISHED, IN_PROGRESS, get_answers, start_run
from storage.taps import Written, read_tap, set_run_message, write_answer
from storage.workshops import create_workshop
from typology.questionnaire import load_questionnaire
from typology.scoring import Result as Classification
from typology.scoring import load_model

TG = 7_000_001


async def _run(db: Database, *, workshop: bool = False) -> Run:
    async with db.write() as s:
        person = await get_or_create_participant(
            s, telegram_id=TG, first_name="Ida", language="de"
        )
        ws = (
            await create_workshop(s, chat_id=-100_1, title="Rat", created_by=1)
            if workshop
            else None
        )
        return await start_run(
            s,
            participant_id=person.id,  # type: ignore[arg-type]
            workshop_id=ws.id if ws else None,
            questionnaire_version="test",
            language="de",
            first_item="g01",
        )


def _answer(
    run: Run,
    update_id: int,
    item: str,
    option: str,
    nxt: str | None,
    result: Classification | None = None,
) -> partial[Written]:
    assert run.id is not None
    return partial(
        write_answer,
        update_id=update_id,
        run_id=run.id,
        item_id=item,
        option_id=option,
        next_item=nxt,
        result=result,
        workshop_id=run.workshop_id,
    )


async def _count(db: Database, table: type) -> int:
    async with db.read() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def test_an_answer_is_written_once_and_a_stale_one_not_at_all(db: Database) -> None:
    run = await _run(db)
    assert await db.write_sync(_answer(run, 1, "g01", "4", "g02")) is Written.DONE
    # The same update delivered again: nothing is written a second time.
    assert await db.write_sync(_answer(run, 1, "g01", "4", "g02")) is Written.DUPLICATE
    # Another press on the old question (a double tap with a new update id): stale.
    assert await db.write_sync(_answer(run, 2, "g01", "1", "g02")) is Written.STALE
    async with db.read() as s:
        assert await get_answers(s, run_id=run.id) == {"g01": "4"}  # type: ignore[arg-type]
        stored = await s.get(Run, run.id)
    assert stored is not None
    assert stored.current_item == "g02"
    assert await _count(db, ProcessedUpdate) == 2  # the stale press is known, too


async def test_the_last_answer_stores_the_result_and_flags_the_live_message(
    db: Database,
) -> None:
    q, model = load_questionnaire(), load_model()
    run = await _run(db, workshop=True)
    async with db.write() as s:
        ws = await s.get(Workshop, run.workshop_id)
        assert ws is not None
        ws.live_dirty = False
    answers = {it.id: it.options[-1].id for it in q.scored_items}
    result = model.classify(q, answers)
    written = await db.write_sync(_answer(run, 9, "g01", "5", None, result=result))
    assert written is Written.DONE
    async with db.read() as s:
        stored = await s.get(Run, run.id)
        row = await s.get(Result, run.id)
        ws = await s.get(Workshop, run.workshop_id)
    assert stored is not None
    assert stored.status == FINISHED
    assert stored.current_item is None
    assert row is not None
    assert row.main_type == result.main_type.value
    assert ws is not None
    assert ws.live_dirty is True


async def test_read_tap_knows_whose_run_it_is_and_an_unseen_result(db: Database) -> None:
    q, model = load_questionnaire(), load_model()
    run = await _run(db)
    assert run.id is not None
    mine = await db.read_sync(
        partial(read_tap, run_id=run.id, telegram_id=TG, pressed_message_id=5)
    )
    assert mine.found is not None
    assert mine.found.run.status == IN_PROGRESS
    assert mine.unseen is None
    async with db.write() as s:
        await get_or_create_participant(s, telegram_id=TG + 1, first_name="Eve", language="en")
    other = await db.read_sync(
        partial(read_tap, run_id=run.id, telegram_id=TG + 1, pressed_message_id=5)
    )
    assert other.found is None  # not her run: nothing of it is shown to her
    assert other.participant is not None
    assert other.participant.language == "en"
    result = model.classify(q, {it.id: it.options[0].id for it in q.scored_items})
    await db.write_sync(_answer(run, 3, "g01", "1", None, result=result))
    await db.write_sync(partial(set_run_message, run_id=run.id, message_id=5))
    again = await db.read_sync(
        partial(read_tap, run_id=run.id, telegram_id=TG, pressed_message_id=5)
    )
    assert again.unseen is not None  # finished, but its question message still had buttons
    assert again.unseen.main_type == result.main_type


async def test_a_failing_write_leaves_nothing_behind(db: Database) -> None:
    run = await _run(db)

    def half_then_fail(session: Session) -> None:
        write_answer(
            session,
            update_id=11,
            run_id=run.id,  # type: ignore[arg-type]
            item_id="g01",
            option_id="2",
            next_item="g02",
            result=None,
            workshop_id=None,
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.write_sync(half_then_fail)
    assert await _count(db, Answer) == 0
    assert await _count(db, ProcessedUpdate) == 0
    assert await db.write_sync(_answer(run, 11, "g01", "2", "g02")) is Written.DONE


async def test_writes_from_many_tasks_all_land(db: Database) -> None:
    runs = []
    for i in range(20):
        async with db.write() as s:
            person = await get_or_create_participant(
                s, telegram_id=TG + 100 + i, first_name=None, language="de"
            )
            runs.append(
                await start_run(
                    s,
                    participant_id=person.id,  # type: ignore[arg-type]
                    workshop_id=None,
                    questionnaire_version="test",
                    language="de",
                    first_item="g01",
                )
            )

    async def tap(i: int, run: Run) -> Written:
        # Interleave with the general write path, which shares the writer queue on SQLite.
        async with db.write() as s:
            s.add(Participant(telegram_id=TG + 500 + i, pseudonym=f"p-x{i:09d}"))
        return await db.write_sync(_answer(run, 100 + i, "g01", "3", "g02"))

    results = await asyncio.gather(*(tap(i, run) for i, run in enumerate(runs)))
    assert results == [Written.DONE] * 20
    assert await _count(db, Answer) == 20


async def test_write_sync_inside_write_is_refused_on_sqlite(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL runs both in one session without a lock of its own")
    run = await _run(db)
    async with db.write():
        with pytest.raises(NestedWriteError):
            await db.write_sync(_answer(run, 1, "g01", "4", "g02"))

"""Storage against real SQLite files and a real PostgreSQL: schema, runs, dedup, deletion."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlmodel import SQLModel

from storage.database import Database
from storage.migrate import current_revision, head_revision, migrate
from storage.models import Answer, Participant, Result, Run
from storage.participants import (
    delete_participant,
    get_or_create_participant,
    mark_blocked,
)
from storage.runs import (
    ABANDONED,
    FINISHED,
    IN_PROGRESS,
    active_run,
    finish_run,
    get_answers,
    get_result,
    mark_processed,
    record_answer,
    start_run,
)
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model


async def _participant(db: Database, telegram_id: int = 42) -> Participant:
    async with db.write() as s:
        return await get_or_create_participant(
            s, telegram_id=telegram_id, first_name="Ada", language="de"
        )


async def test_migrations_reach_head_and_match_the_models(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    async with db.write_engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
    assert diff == [], f"models and migrations differ: {diff}"
    assert await migrate(db) == head_revision()  # idempotent at start-up


async def test_participant_is_created_once_and_gets_a_pseudonym(db: Database) -> None:
    # A realistic id with 0 and 1, which the pseudonym alphabet lacks: with id 42 the random
    # pseudonym contained "42" in about 1 run of 100.
    first = await _participant(db, telegram_id=1_234_567_890)
    again = await _participant(db, telegram_id=1_234_567_890)
    assert first.id == again.id
    assert first.pseudonym.startswith("p-")
    assert len(first.pseudonym) == 12
    assert str(first.telegram_id) not in first.pseudonym


async def test_run_answers_replace_and_finish_with_result(db: Database) -> None:
    q, model = load_questionnaire(), load_model()
    person = await _participant(db)
    assert person.id is not None
    async with db.write() as s:
        run = await start_run(
            s,
            participant_id=person.id,
            workshop_id=None,
            questionnaire_version=q.version,
            language="de",
            first_item=q.items[0].id,
        )
        assert run.id is not None
    answers = {it.id: it.options[-1].id for it in q.scored_items}
    async with db.write() as s:
        await record_answer(s, run_id=run.id, item_id=q.items[0].id, option_id="1")
        for item, option in answers.items():
            await record_answer(s, run_id=run.id, item_id=item, option_id=option)
    async with db.read() as s:
        assert await get_answers(s, run_id=run.id) == answers  # "1" on the first item was replaced
    result = model.classify(q, answers)
    async with db.write() as s:
        fresh = await s.get(Run, run.id)
        assert fresh is not None
        await finish_run(s, run=fresh, result=result)
    async with db.read() as s:
        stored = await get_result(s, run_id=run.id)
        done = await s.get(Run, run.id)
    assert stored is not None
    assert done is not None
    assert done.status == FINISHED
    assert done.finished_at is not None
    assert done.finished_at.tzinfo is not None
    assert stored.main_type == result.main_type
    assert stored.affinities == pytest.approx({str(k): v for k, v in result.affinities.items()})


async def test_starting_again_abandons_the_run_in_progress(db: Database) -> None:
    person = await _participant(db)
    assert person.id is not None
    async with db.write() as s:
        first = await start_run(
            s,
            participant_id=person.id,
            workshop_id=None,
            questionnaire_version="1",
            language="de",
            first_item="g01",
        )
        assert first.id is not None
        second = await start_run(
            s,
            participant_id=person.id,
            workshop_id=None,
            questionnaire_version="1",
            language="de",
            first_item="g01",
        )
    async with db.read() as s:
        active = await active_run(s, participant_id=person.id)
        assert active is not None
        assert active.id == second.id
        old = await s.get(Run, first.id)
    assert old is not None
    assert old.status == ABANDONED
    assert second.status == IN_PROGRESS


async def test_processed_update_is_recorded_once(db: Database) -> None:
    async with db.write() as s:
        assert await mark_processed(s, update_id=1001) is True
    async with db.write() as s:
        assert await mark_processed(s, update_id=1001) is False
        assert await mark_processed(s, update_id=1002) is True


async def test_failed_transaction_rolls_back_the_update_id(db: Database) -> None:
    async def failing_handler() -> None:
        async with db.write() as s:
            await mark_processed(s, update_id=7)
            raise RuntimeError("handler failed")

    with pytest.raises(RuntimeError):
        await failing_handler()
    async with db.write() as s:
        assert await mark_processed(s, update_id=7) is True  # a retry is processed again


async def test_delete_participant_removes_runs_answers_results(db: Database) -> None:
    q, model = load_questionnaire(), load_model()
    person = await _participant(db)
    assert person.id is not None
    answers = {it.id: "3" for it in q.rating_items} | {
        q.choice_item.id: q.choice_item.options[0].id
    }
    async with db.write() as s:
        run = await start_run(
            s,
            participant_id=person.id,
            workshop_id=None,
            questionnaire_version=q.version,
            language="de",
            first_item="g01",
        )
        assert run.id is not None
        for item, option in answers.items():
            await record_answer(s, run_id=run.id, item_id=item, option_id=option)
        await finish_run(s, run=run, result=model.classify(q, answers))
    async with db.write() as s:
        assert await delete_participant(s, participant_id=person.id) == 1
    async with db.read() as s:
        for table in (Participant, Run, Answer, Result):
            count = (await s.execute(select(func.count()).select_from(table))).scalar_one()
            assert count == 0, table.__tablename__


async def test_mark_blocked_sets_a_utc_time(db: Database) -> None:
    await _participant(db, telegram_id=5)
    async with db.write() as s:
        await mark_blocked(s, telegram_id=5)
    async with db.read() as s:
        person = (await s.execute(select(Participant))).scalar_one()
    assert person.blocked_at is not None
    assert person.blocked_at <= datetime.now(UTC)


async def test_concurrent_writers_all_succeed(db: Database) -> None:
    """Read-then-write transactions from many tasks wait for each other instead of failing."""
    person = await _participant(db)
    assert person.id is not None
    async with db.write() as s:
        run = await start_run(
            s,
            participant_id=person.id,
            workshop_id=None,
            questionnaire_version="1",
            language="de",
            first_item="g01",
        )
        assert run.id is not None

    run_id = run.id

    async def writer(n: int) -> None:
        async with db.write() as s:
            await get_answers(s, run_id=run_id)
            await record_answer(s, run_id=run_id, item_id=f"x{n:03d}", option_id="1")
            await mark_processed(s, update_id=10_000 + n)

    await asyncio.gather(*(writer(n) for n in range(40)))
    async with db.read() as s:
        assert len(await get_answers(s, run_id=run.id)) == 40

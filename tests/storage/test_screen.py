"""The presenter page's state: revocation epoch, reveal flag, a marker that follows finishes."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from storage.database import Database
from storage.models import Result, Run
from storage.participants import get_or_create_participant
from storage.runs import FINISHED
from storage.screen import (
    latest_workshop_created_by,
    revoke_screens,
    screen_marker,
    set_revealed,
    team_types,
)
from storage.types import utcnow
from storage.workshops import create_workshop, get_workshop


async def test_revoking_raises_the_epoch_and_reveal_is_stored(db: Database) -> None:
    async with db.write() as session:
        workshop = await create_workshop(session, chat_id=-5, title="T", created_by=42)
        wid = workshop.id
    assert wid is not None
    async with db.read() as session:
        fresh = await get_workshop(session, workshop_id=wid)
    assert fresh is not None
    assert (fresh.screen_epoch, fresh.screen_revealed) == (0, False)
    async with db.write() as session:
        assert await revoke_screens(session, workshop_id=wid) == 1
        assert await revoke_screens(session, workshop_id=wid) == 2
        await set_revealed(session, workshop_id=wid, revealed=True)
    async with db.read() as session:
        fresh = await get_workshop(session, workshop_id=wid)
        mine = await latest_workshop_created_by(session, user_id=42)
        nobody = await latest_workshop_created_by(session, user_id=43)
    assert fresh is not None
    assert (fresh.screen_epoch, fresh.screen_revealed) == (2, True)
    assert mine is not None
    assert mine.id == wid
    assert nobody is None


async def test_the_marker_moves_with_joins_finishes_and_teams_not_with_answers(
    db: Database,
) -> None:
    async with db.write() as session:
        workshop = await create_workshop(session, chat_id=-6, title="T", created_by=1)
        person = await get_or_create_participant(
            session, telegram_id=9001, first_name="A", language="de"
        )
        wid = workshop.id
        assert wid is not None
        assert person.id is not None
        run = Run(participant_id=person.id, workshop_id=wid, questionnaire_version="2")
        session.add(run)
    async with db.read() as session:
        joined = await screen_marker(session, workshop_id=wid)
        assert await screen_marker(session, workshop_id=wid + 100) is None
    async with db.write() as session:  # an answer moves the run, not the page
        await session.execute(
            update(Run)
            .where(col(Run.id) == run.id)
            .values(current_item="g02", updated_at=utcnow())
        )
    async with db.read() as session:
        assert await screen_marker(session, workshop_id=wid) == joined
    async with db.write() as session:
        await session.execute(
            update(Run).where(col(Run.id) == run.id).values(status=FINISHED, finished_at=utcnow())
        )
    async with db.read() as session:
        finished = await screen_marker(session, workshop_id=wid)
    assert finished != joined
    async with db.write() as session:
        await session.execute(update(Run).where(col(Run.id) == run.id).values(team=1))
        await set_revealed(session, workshop_id=wid, revealed=True)
    async with db.read() as session:
        assert await screen_marker(session, workshop_id=wid) not in (joined, finished)


async def test_team_mixes_stay_as_teams_placed_them_when_someone_answers_again(
    db: Database,
) -> None:
    async with db.write() as session:
        workshop = await create_workshop(session, chat_id=-7, title="T", created_by=1)
        person = await get_or_create_participant(
            session, telegram_id=9002, first_name="B", language="de"
        )
        assert workshop.id is not None
        assert person.id is not None
        wid = workshop.id
        for team, main_type in ((1, "optimierer"), (None, "community")):  # then answered again
            run = Run(
                participant_id=person.id,
                workshop_id=wid,
                questionnaire_version="2",
                status=FINISHED,
                finished_at=utcnow(),
                team=team,
            )
            session.add(run)
            await session.flush()
            assert run.id is not None
            session.add(
                Result(
                    run_id=run.id,
                    main_type=main_type,
                    second_type="bedaechtige",
                    affinities={},
                    deciding=[],
                    profile={},
                    model_version="2",
                )
            )
    async with db.read() as session:
        assert await team_types(session, workshop_id=wid) == [(1, "optimierer")]

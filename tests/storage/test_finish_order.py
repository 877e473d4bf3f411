"""Finished members come in finish order, each at their latest result (for disclosure in steps)."""

from __future__ import annotations

from sqlalchemy import select

from storage import groups
from storage.database import Database
from storage.models import Participant
from storage.participants import get_or_create_participant
from storage.runs import finish_run, start_run
from storage.workshops import create_workshop
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model


async def test_members_are_ordered_by_their_latest_finish(db: Database) -> None:
    q, model = load_questionnaire(), load_model()
    answers = {item.id: item.options[0].id for item in q.scored_items}
    result = model.classify(q, answers)
    async with db.write() as s:
        workshop = await create_workshop(s, chat_id=-5, title="T", created_by=1)
        runs = {}
        for uid in (1, 2, 3):  # Ada, Bob and Cem start in this order ...
            person = await get_or_create_participant(
                s, telegram_id=uid, first_name=f"P{uid}", language="de"
            )
            runs[uid] = await start_run(
                s,
                participant_id=person.id,  # type: ignore[arg-type]
                workshop_id=workshop.id,
                questionnaire_version=q.version,
                language="de",
                first_item=q.items[0].id,
            )
        ada = runs[1].participant_id
    for uid in (2, 1, 3):  # ... and finish as Bob, Ada, Cem
        async with db.write() as s:
            await finish_run(s, run=await s.merge(runs[uid]), result=result)
    async with db.write() as s:  # Ada answers again and finishes last
        again = await start_run(
            s,
            participant_id=ada,
            workshop_id=workshop.id,
            questionnaire_version=q.version,
            language="de",
            first_item=q.items[0].id,
        )
        await finish_run(s, run=again, result=result)
    async with db.read() as s:
        members = await groups.finished_members(s, workshop_id=workshop.id)  # type: ignore[arg-type]
        people = (await s.execute(select(Participant))).scalars().all()
    assert [m.telegram_id for m in members] == [2, 3, 1]
    assert members[-1].run_id == again.id
    by_pseudonym = {p.pseudonym: p.telegram_id for p in people}
    assert [by_pseudonym[m.pseudonym] for m in members] == [2, 3, 1]

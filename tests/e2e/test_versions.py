"""A run started on questionnaire version 1 before the switch to version 2 can be finished."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.models import Answer, Participant, Result, Run
from storage.runs import record_answer
from tests.e2e.harness import BotProcess, Person, answer_buttons, progress
from tests.e2e.test_journey import stored_answers
from tests.support.database import reading, writing
from typology.questionnaire import CURRENT_VERSION, load_questionnaire

V1 = load_questionnaire(version="1")
V1_ANSWERED = {"g01": "5", "g02": "2", "g03": "4", "g04": "1"}  # given before the switch


async def _make_it_a_version_1_run(bot: BotProcess, user_id: int) -> int:
    """Rewrites the person's run as the old bot left it: version 1, four answers, at g05."""
    async with writing(bot.settings.database_url) as s:
        person = (
            await s.execute(select(Participant).where(col(Participant.telegram_id) == user_id))
        ).scalar_one()
        run = (
            await s.execute(select(Run).where(col(Run.participant_id) == person.id))
        ).scalar_one()
        assert run.id is not None
        await s.execute(delete(Answer).where(col(Answer.run_id) == run.id))
        for item, option in V1_ANSWERED.items():
            await record_answer(s, run_id=run.id, item_id=item, option_id=option)
        run.questionnaire_version, run.current_item = "1", "g05"
        s.add(run)
        return run.id


async def _stored(bot: BotProcess, run_id: int) -> tuple[Run, Result | None]:
    async with reading(bot.settings.database_url) as s:
        run = await s.get(Run, run_id)
        assert run is not None
        return run, await s.get(Result, run_id)


async def test_a_version_1_run_is_resumed_and_finished_on_version_1(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    assert CURRENT_VERSION != "1"
    lea = Person(sandbox, 3101, "Lea")
    first = await lea.join()
    assert answer_buttons(first)[0]["callback_data"].split(":")[2] == "process"  # version 2
    await bot.stop()
    run_id = await _make_it_a_version_1_run(bot, lea.user_id)
    restarted = BotProcess(sandbox, bot.settings)
    await restarted.start()
    try:
        offer = await lea.say("/start")
        assert "Frage 5 von 15" in (offer.text or "")
        resume = next(b for b in offer.buttons if b["callback_data"].startswith("r:"))
        q = await lea.press_and_wait(
            offer, resume["callback_data"], lambda m: progress(m) == (5, 15)
        )
        assert V1.item("g05").text("de") in (q.text or "")
        assert next(b["text"] for b in answer_buttons(q)) == "unwichtig"  # the old scale, kept
        # Back shows the version 1 question before it, with the answer given then ticked.
        back = next(b for b in q.buttons if b["callback_data"].startswith("b:"))
        q4 = await lea.press_and_wait(q, back["callback_data"], lambda m: progress(m) == (4, 15))
        assert V1.item("g04").text("de") in (q4.text or "")
        assert answer_buttons(q4)[0]["text"].startswith("✓")
        lea.pressed = dict(V1_ANSWERED)
        card = await lea.answer_all(q4)
        assert card.text
        texts = [m.text or "" for m in sandbox.messages(lea.user_id)]
        assert any("Ihr Ergebnis" in t for t in texts)
        assert await stored_answers(restarted, lea.user_id) == lea.pressed
        assert set(lea.pressed) == {it.id for it in V1.items}
        run, result = await _stored(restarted, run_id)
        assert run.status == "finished"
        assert run.questionnaire_version == "1"
        assert result is not None
        assert result.model_version == "prior-1"
        assert set(result.deciding) <= {it.id for it in V1.scored_items}
    finally:
        await restarted.stop()


async def test_new_runs_use_the_current_version(sandbox: BotApiServer, bot: BotProcess) -> None:
    ben = Person(sandbox, 3102, "Ben")
    card = await ben.answer_all(await ben.join())
    assert card.text
    current = load_questionnaire()
    assert set(ben.pressed) == {it.id for it in current.items}
    async with reading(bot.settings.database_url) as s:
        run = (await s.execute(select(Run))).scalars().one()
        result = await s.get(Result, run.id)
    assert run.questionnaire_version == current.version == CURRENT_VERSION
    assert result is not None
    assert result.model_version == f"prior-{CURRENT_VERSION}"

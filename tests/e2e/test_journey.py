"""The participant's journey end to end: the real bot against the sandbox Bot API."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.models import Participant, Run
from storage.runs import get_answers
from tests.e2e.harness import BotProcess, Person, answer_buttons, progress
from tests.support.database import reading
from typology.questionnaire import load_questionnaire


async def stored_answers(bot: BotProcess, user_id: int) -> dict[str, str]:
    async with reading(bot.settings.database_url) as s:
        person = (
            await s.execute(select(Participant).where(col(Participant.telegram_id) == user_id))
        ).scalar_one()
        run = (
            (
                await s.execute(
                    select(Run)
                    .where(col(Run.participant_id) == person.id)
                    .order_by(col(Run.id).desc())
                )
            )
            .scalars()
            .first()
        )
        assert run is not None
        assert run.id is not None
        return await get_answers(s, run_id=run.id)


async def test_full_run_gives_result_chart_and_card(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    ada = Person(sandbox, 1001, "Ada")
    first = await ada.join()
    assert progress(first) == (1, 15)
    card = await ada.answer_all(first)
    texts = [m.text or m.caption or "" for m in sandbox.messages(ada.user_id)]
    assert any("Ihr Ergebnis" in t for t in texts)
    photos = [m for m in sandbox.messages(ada.user_id) if m.photo is not None]
    assert len(photos) == 1
    assert photos[0].photo is not None
    assert photos[0].photo.data.startswith(b"\x89PNG")
    assert "Stärken" in (card.text or "")
    assert any("Kein Typ ist besser" in t for t in texts)
    assert await stored_answers(bot, ada.user_id) == ada.pressed


async def test_answer_buttons_carry_run_and_item(sandbox: BotApiServer, bot: BotProcess) -> None:
    bob = Person(sandbox, 1002, "Bob")
    first = await bob.join()
    data = [b["callback_data"] for b in answer_buttons(first)]
    assert len(data) == 5
    assert all(d.split(":")[2] == load_questionnaire().items[0].id for d in data)

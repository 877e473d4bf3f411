"""A result the bot stored but died before showing: shown on the next press or /start, honestly.

The state is the one a SIGKILL between the last answer's commit and the result card leaves
(the crowd in tests/faults/test_crowd_kill.py hits it at random): the run is finished in the
database, and the person still sees the last question with its buttons.
"""

from __future__ import annotations

from functools import partial

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.taps import write_answer
from tests.e2e.harness import BotProcess, Person, answer_buttons, progress
from tests.e2e.test_journey import stored_answers
from tests.e2e.websession import NAMES_DE
from tests.support.database import opened
from typology.questionnaire import load_questionnaire
from typology.scoring import load_model

RUN_OVER = "Dieser Fragebogen ist bereits abgeschlossen."


async def _last_question(person: Person) -> StoredMessage:
    """Joins and answers every question but the last (first option each); returns the last."""
    current = await person.join()
    while progress(current) != (15, 15):
        data = answer_buttons(current)[0]["callback_data"]
        _, _, item, option = data.split(":")
        person.pressed[item] = option
        before = progress(current)

        def moved(m: StoredMessage, b: tuple[int, int] | None = before) -> bool:
            return progress(m) is not None and progress(m) != b

        current = await person.press_and_wait(current, data, moved)
    return current


async def _finish_behind_its_back(
    bot: BotProcess, person: Person, question: StoredMessage, option: str
) -> str:
    """Stores the last answer and the result as the killed bot did; returns the main type."""
    q, model = load_questionnaire(), load_model()
    run_id, item = answer_buttons(question)[0]["callback_data"].split(":")[1:3]
    scored_ids = {it.id for it in q.scored_items}
    async with opened(bot.settings.database_url) as db:
        answers = await stored_answers(bot, person.user_id)
        scored = {k: v for k, v in (answers | {item: option}).items() if k in scored_ids}
        result = model.classify(q, scored)
        await db.write_sync(
            partial(
                write_answer,
                update_id=10**9,
                run_id=int(run_id),
                item_id=item,
                option_id=option,
                next_item=None,
                result=result,
                workshop_id=None,
            )
        )
    return str(result.main_type)


def _shown_types(sandbox: BotApiServer, user_id: int) -> list[str]:
    names = [m.caption or "" for m in sandbox.messages(user_id) if m.photo is not None]
    return [NAMES_DE[c.removeprefix("Ihr Ergebnis: ").strip()] for c in names]


async def test_another_answer_on_a_finished_runs_question_says_so(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    ida = Person(sandbox, 3101, "Ida")
    last = await _last_question(ida)
    first, other = (b["callback_data"] for b in answer_buttons(last)[:2])
    stored_type = await _finish_behind_its_back(bot, ida, last, first.split(":")[3])
    query = await ida.press(last, other)  # she never saw the run finish; she taps again
    await sandbox.wait_for(lambda m: m.photo is not None, 15, chat_id=ida.user_id)
    # Her tap was not stored (the run was over): the toast must not pretend it was.
    assert (sandbox.callback_answer(query) or {}).get("text") == RUN_OVER
    assert (await stored_answers(bot, ida.user_id))[first.split(":")[2]] == first.split(":")[3]
    assert _shown_types(sandbox, ida.user_id) == [stored_type]


async def test_start_after_a_result_never_shown_shows_it(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    jan = Person(sandbox, 3102, "Jan")
    last = await _last_question(jan)
    option = answer_buttons(last)[0]["callback_data"].split(":")[3]
    stored_type = await _finish_behind_its_back(bot, jan, last, option)
    mark = sandbox.mark()
    sandbox.send_text(jan.user_id, "/start")
    await sandbox.wait_for(lambda m: m.photo is not None, 15, chat_id=jan.user_id, since=mark)
    assert _shown_types(sandbox, jan.user_id) == [stored_type]


async def test_start_after_a_result_seen_offers_to_answer_again(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    kai = Person(sandbox, 3103, "Kai")
    await kai.answer_all(await kai.join())
    reply = await kai.say("/start")
    assert "bereits ausgefüllt" in (reply.text or "")
    assert len(_shown_types(sandbox, kai.user_id)) == 1  # not shown a second time

"""The profile card fits one phone screen; its "more" button shows the rest in place."""

from __future__ import annotations

from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person


async def test_more_expands_the_card_in_place_and_keeps_its_buttons(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    eva = Person(sandbox, 2401, "Eva")
    card = await eva.answer_all(await eva.join())
    text = card.text or ""
    assert len(text) <= 600
    assert "Von den anderen lernen" not in text
    more = [b for b in card.buttons if b["callback_data"].startswith("p:")]
    assert len(more) == 1
    others = [b["callback_data"] for b in card.buttons if b not in more]
    shown = await eva.press_and_wait(
        card, more[0]["callback_data"], lambda m: m.message_id == card.message_id
    )
    full = shown.text or ""
    assert full.startswith(text)
    assert "Von den anderen lernen" in full
    assert "Fragen zum Nachdenken" in full
    assert [b["callback_data"] for b in shown.buttons] == others  # "again" and "share" stay
    # A second tap from a client that still shows the old keyboard changes nothing.
    for data in (more[0]["callback_data"], "_"):  # "_": answered once the tap is handled
        query = sandbox.press_button(eva.user_id, card.message_id, data, check=False)
        await sandbox.wait_for_answer(query, 20)
    again = next(m for m in sandbox.messages(eva.user_id) if m.message_id == card.message_id)
    assert again.text == full


async def test_a_forged_more_button_is_refused_politely(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    eva = Person(sandbox, 2402, "Eva")
    card = await eva.answer_all(await eva.join())
    before = card.text
    query = sandbox.press_button(eva.user_id, card.message_id, "p:nosuchtype", check=False)
    answer = await sandbox.wait_for_answer(query, 20)
    assert answer.get("text")  # a short note, nothing else
    shown = next(m for m in sandbox.messages(eva.user_id) if m.message_id == card.message_id)
    assert shown.text == before

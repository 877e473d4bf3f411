"""The journey in English: from the client's language, and switched from German on the welcome."""

from __future__ import annotations

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person, progress


def _texts(sandbox: BotApiServer, user_id: int) -> list[str]:
    return [m.text or m.caption or "" for m in sandbox.messages(user_id)]


async def _consent(person: Person, welcome: StoredMessage) -> StoredMessage:
    """Presses the welcome's consent button; returns the first question."""
    consent = next(b for b in welcome.buttons if b["callback_data"].split(":")[0] == "c")
    first = await person.press_and_wait(welcome, consent["callback_data"], lambda m: True)
    assert (first.text or "").startswith("Question 1 of 15")
    return first


async def test_english_client_gets_everything_in_english(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    ann = Person(sandbox, 1101, "Ann", language="en")
    welcome = await ann.say("/start")
    assert (welcome.text or "").startswith("Welcome to D-Team!")
    assert [b["text"] for b in welcome.buttons][1] == "🇩🇪 Auf Deutsch"
    first = await _consent(ann, welcome)
    assert progress(first) == (1, 15)
    card = await ann.answer_all(first)
    assert (card.text or "").startswith("Profile card:")
    assert "Strengths" in (card.text or "")
    assert "Stärken" not in (card.text or "")
    texts = _texts(sandbox, ann.user_id)
    assert any(t.startswith("Thank you! All questions are answered.") for t in texts)
    assert any("No type is better than another" in t for t in texts)
    assert any(t.startswith("Your result:") for t in texts)  # the chart's caption
    help_text = (await ann.say("/help")).text or ""
    assert "/delete_me" in help_text
    assert "Fragebogen" not in help_text


async def test_german_client_switches_to_english_on_the_welcome(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    ben = Person(sandbox, 1102, "Ben", language="de")
    welcome = await ben.say("/start")
    assert (welcome.text or "").startswith("Willkommen")
    switch = next(b for b in welcome.buttons if b["callback_data"] == "l:en")
    english = await ben.press_and_wait(
        welcome, switch["callback_data"], lambda m: (m.text or "").startswith("Welcome")
    )
    assert english.buttons[0]["text"] == "✅ I agree – let’s start"
    card = await ben.answer_all(await _consent(ben, english))
    assert (card.text or "").startswith("Profile card:")

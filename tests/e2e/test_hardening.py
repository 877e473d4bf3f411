"""The smaller hardening findings of issue 11, each driven through the stand-in."""

from __future__ import annotations

import asyncio
import io

import pandas as pd
import pytest
from sqlalchemy import func, select

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from storage.models import Participant
from tests.e2e.harness import BotProcess, Person, make_settings
from tests.e2e.websession import command, finish, make_group, open_session
from tests.support.database import reading

GROUP, MODERATOR = -8401, 8401
PIA, OTTO = 8411, 8412
HUGE = "99999999999999999999"  # > 2**63-1: SQLite raises OverflowError binding it
INT4 = str(2**31)  # past PostgreSQL's INTEGER: asyncpg refuses it (a DBAPIError)


async def participants(bot: BotProcess) -> int:
    """Returns how many participant rows the database holds."""
    async with reading(bot.settings.database_url) as s:
        count = select(func.count()).select_from(Participant)
        return int((await s.execute(count)).scalar_one())


def not_live(message: StoredMessage) -> bool:
    """Tells a bot message apart from the group's live message."""
    return not (message.text or "").startswith("📊 Live")


def errors_told(sandbox: BotApiServer, chat_id: int) -> list[str]:
    """Returns the bot's "something went wrong" messages in a chat."""
    return [
        m.text or ""
        for m in sandbox.messages(chat_id)
        if "schiefgegangen" in (m.text or "") or "went wrong" in (m.text or "")
    ]


@pytest.mark.timeout(120)
async def test_out_of_range_ids_in_buttons_are_refused_politely(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    pia = Person(sandbox, PIA, "Pia")
    question = await pia.join()
    forged = (f"a:{HUGE}:g01:5", f"b:{HUGE}:g01", f"a:{INT4}:g01:5", "a:-1:g01:5", "a:1_0:g01:5")
    for data in forged:
        query = sandbox.press_button(PIA, question.message_id, data, check=False)
        answer = await sandbox.wait_for_answer(query, 15)
        assert answer.get("text") == "Diese Schaltfläche ist nicht mehr gültig.", (data, answer)
    await open_session(sandbox, MODERATOR, GROUP, "Runde")
    confirm = await command(sandbox, MODERATOR, GROUP, "/reset", lambda m: bool(m.buttons))
    query = sandbox.press_button(
        MODERATOR, confirm.message_id, f"x:{HUGE}:yes", GROUP, check=False
    )
    await sandbox.wait_for_answer(query, 15)
    # The pressed question is still answerable: nothing broke on the way.
    nxt = await pia.press_and_wait(
        question,
        question.buttons[0]["callback_data"],
        lambda m: (m.text or "").startswith("Frage 2"),
    )
    assert nxt is not None
    assert errors_told(sandbox, PIA) == []
    assert errors_told(sandbox, GROUP) == []


@pytest.mark.timeout(120)
async def test_schedule_far_ahead_and_teams_with_odd_digits_get_usage_answers(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    await open_session(sandbox, MODERATOR, GROUP, "Runde")
    far = await command(sandbox, MODERATOR, GROUP, "/schedule 31.12.9999 23:00 24h", not_live)
    assert "366 Tage" in (far.text or ""), far.text
    year = await command(sandbox, MODERATOR, GROUP, "/schedule 01.01.2100 10:00", not_live)
    assert "366 Tage" in (year.text or ""), year.text
    teams = await command(sandbox, MODERATOR, GROUP, "/teams ²", not_live)
    assert "Teamgröße" in (teams.text or ""), teams.text
    # The handlers still work afterwards.
    status = await command(sandbox, MODERATOR, GROUP, "/schedule", not_live)
    assert status.text
    assert errors_told(sandbox, GROUP) == []


@pytest.mark.timeout(120)
async def test_refused_command_text_is_logged_on_one_line_and_short(
    sandbox: BotApiServer, bot: BotProcess, caplog: pytest.LogCaptureFixture
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    sandbox.add_user(OTTO, "Otto")
    sandbox.set_member(GROUP, OTTO, "member")
    forged = "/close\n2026-12-02 12:00:00 INFO bot granted admin to 8412" + "x" * 500
    with caplog.at_level("INFO"):
        refusal = await command(sandbox, OTTO, GROUP, forged)
    assert "nur die Moderierenden" in (refusal.text or ""), refusal.text
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert lines, [r.getMessage() for r in caplog.records]
    for line in lines:
        assert "\n" not in line
        assert "x" * 100 not in line


@pytest.mark.timeout(120)
async def test_no_participant_row_without_consent_in_private_chat(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    sandbox.add_user(OTTO, "Otto")
    sandbox.set_member(GROUP, OTTO, "member")
    await open_session(sandbox, MODERATOR, GROUP, "Runde")
    in_group = await command(sandbox, OTTO, GROUP, "/reminders off", not_live)
    assert "privaten Chat" in (in_group.text or ""), in_group.text
    otto = Person(sandbox, OTTO, "Otto")
    private = await otto.say("/reminders off")
    assert "/start" in (private.text or ""), private.text
    for data in ("m:off", "m:on", "s:on", "s:off", "l:en", "n", "j:NoSuchCode1"):
        query = sandbox.press_button(OTTO, private.message_id, data, check=False)
        await sandbox.wait_for_answer(query, 15)
    await otto.say("/reminders")
    assert await participants(bot) == 0
    # After consent in private chat, the same commands work and keep their setting.
    pia = Person(sandbox, PIA, "Pia")
    await pia.join()
    turned = await pia.say("/reminders off")
    assert "ausgeschaltet" in (turned.text or ""), turned.text
    assert await participants(bot) == 1


@pytest.mark.timeout(120)
async def test_a_demoted_admin_loses_the_rights_at_once(
    sandbox: BotApiServer, bot: BotProcess, caplog: pytest.LogCaptureFixture
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    sandbox.add_user(OTTO, "Otto")
    sandbox.set_member(GROUP, OTTO, "administrator")
    await open_session(sandbox, MODERATOR, GROUP, "Runde")
    closed = await command(sandbox, OTTO, GROUP, "/close", not_live)  # rights now cached
    assert "geschlossen" in (closed.text or ""), closed.text
    with caplog.at_level("INFO"):
        sandbox.change_member(GROUP, OTTO, "member", by_user_id=MODERATOR)
        for _ in range(50):  # until the bot handled the change (never, if it ignores it)
            if any("cached rights dropped" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.1)
    refused = await command(sandbox, OTTO, GROUP, "/reopen", not_live)
    assert "nur die Moderierenden" in (refused.text or ""), refused.text


async def export_of(sandbox: BotApiServer, group: int, moderator: int) -> list[str]:
    """Asks for the group's export; returns the participant column of its CSV."""
    mark = sandbox.mark()
    sandbox.send_text(moderator, "/export", chat_id=group)
    csv = await sandbox.wait_for(
        lambda m: m.document is not None and (m.document.file_name or "").endswith(".csv"),
        20,
        chat_id=moderator,
        since=mark,
    )
    assert csv.document is not None
    frame = pd.read_csv(io.BytesIO(csv.document.data), dtype=str, encoding="utf-8-sig")
    return list(frame["participant"])


@pytest.mark.timeout(180)
async def test_exports_use_a_pseudonym_per_session_and_need_the_threshold(
    sandbox: BotApiServer, database_url: str
) -> None:
    bot = BotProcess(sandbox, make_settings(sandbox.root, database_url, privacy_threshold=2))
    await bot.start()
    try:
        other_group, other_moderator = GROUP - 1, MODERATOR + 1
        make_group(sandbox, GROUP, MODERATOR)
        make_group(sandbox, other_group, other_moderator)
        for moderator in (MODERATOR, other_moderator):  # both can be written to privately
            sandbox.send_text(moderator, "/help")
            await sandbox.wait_for(lambda _m: True, 10, chat_id=moderator)
        first = await open_session(sandbox, MODERATOR, GROUP, "Erste")
        second = await open_session(sandbox, other_moderator, other_group, "Zweite")
        pia = Person(sandbox, PIA, "Pia")
        await finish(pia, first, seed=1)
        await finish(Person(sandbox, OTTO, "Otto"), first, seed=2)

        # Pia takes part in the second session too; alone there, the export is refused.
        again = await pia.say(f"/start {second}")
        await pia.answer_all(again)
        mark = sandbox.mark()
        sandbox.send_text(other_moderator, "/export", chat_id=other_group)
        refusal = await sandbox.wait_for(lambda _m: True, 15, chat_id=other_moderator, since=mark)
        assert "ab 2 fertigen" in (refusal.text or ""), refusal.text
        assert refusal.document is None
        await finish(Person(sandbox, PIA + 100, "Ute"), second, seed=3)

        in_first = await export_of(sandbox, GROUP, MODERATOR)
        in_second = await export_of(sandbox, other_group, other_moderator)
        assert len(set(in_first)) == len(in_second) == 2
        assert set(in_first).isdisjoint(in_second)  # Pia cannot be followed across sessions
        assert all(p.startswith("p-") for p in [*in_first, *in_second])
        assert await export_of(sandbox, GROUP, MODERATOR) == in_first  # stable per session
    finally:
        await bot.stop()


def member_checks(sandbox: BotApiServer, user_id: int) -> int:
    """Returns how often the bot asked Telegram about this user's membership so far."""
    return sum(
        1
        for c in sandbox.calls_to("getChatMember")
        if str(user_id) in str(c.params.get("user_id"))
    )


@pytest.mark.timeout(240)
async def test_bare_start_offers_my_group_despite_many_foreign_sessions(
    sandbox: BotApiServer, bot: BotProcess, caplog: pytest.LogCaptureFixture
) -> None:
    make_group(sandbox, GROUP, MODERATOR)
    await open_session(sandbox, MODERATOR, GROUP, "Meine Runde")
    # Pia joins the group; the bot, an admin there, is told.
    sandbox.add_user(PIA, "Pia")
    with caplog.at_level("DEBUG", logger="handlers.core.permissions"):
        sandbox.change_member(GROUP, PIA, "member", by_user_id=MODERATOR)
        for _ in range(50):
            if any(str(PIA) in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.1)
    # Twelve groups Pia is not in open sessions after hers (anyone can do that).
    for n in range(1, 13):
        make_group(sandbox, GROUP - 10 * n, MODERATOR + 1000 + n)
        await open_session(sandbox, MODERATOR + 1000 + n, GROUP - 10 * n, f"Fremd {n}")

    pia = Person(sandbox, PIA, "Pia")
    before = member_checks(sandbox, PIA)
    offer = await pia.say("/start")
    labels = [b.get("text", "") for b in offer.buttons]
    assert any("Meine Runde" in label for label in labels), (offer.text, labels)
    assert not any("Fremd" in label for label in labels)
    assert member_checks(sandbox, PIA) - before <= 10

    # A member who wrote in the group (a command: privacy mode shows the bot no more) is
    # looked for there first too, as is a group's moderator.
    ute = Person(sandbox, PIA + 100, "Ute")
    sandbox.set_member(GROUP, ute.user_id, "member")  # silently: no chat_member update
    await command(sandbox, ute.user_id, GROUP, "/status", not_live)  # refused, but seen
    offer = await ute.say("/start")
    assert any("Meine Runde" in b.get("text", "") for b in offer.buttons), offer.text
    moderator = Person(sandbox, MODERATOR, "Mo")
    offer = await moderator.say("/start")
    assert any("Meine Runde" in b.get("text", "") for b in offer.buttons), offer.text

    # Someone in none of the groups: at most ten questions per /start, none asked twice.
    otto = Person(sandbox, OTTO, "Otto")
    await otto.say("/start")
    first = member_checks(sandbox, OTTO)
    assert first <= 10
    await otto.say("/start")
    second = member_checks(sandbox, OTTO) - first
    assert first + second == 13  # every open session's group asked about exactly once

"""Moderator-only commands: refusals that change and reveal nothing, reset, status, export."""

from __future__ import annotations

import io

import pandas as pd

from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person
from tests.e2e.websession import (
    command,
    crowd,
    db_state,
    make_group,
    open_session,
    summary_counts,
    wait_live,
)
from typology.questionnaire import load_questionnaire

GROUP, MOD, MEMBER = -2001, 901, 951
REFUSAL = "Diesen Befehl können nur die Moderierenden"


async def test_non_moderator_changes_and_sees_nothing(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    sandbox.add_user(MEMBER, "Mitglied")
    sandbox.set_member(GROUP, MEMBER, "member")
    code = await open_session(sandbox, MOD, GROUP)
    await crowd(sandbox, code, range(3001, 3004))
    await wait_live(sandbox, GROUP, "Fertig: 3")
    before = await db_state(bot)
    group_before = len(sandbox.messages(GROUP))
    for text in ("/summary", "/close", "/reset", "/export", "/status", "/teams 2", "/session x"):
        reply = await command(sandbox, MEMBER, GROUP, text)
        assert REFUSAL in (reply.text or ""), text
    after = await db_state(bot)
    assert [(w.id, w.status, w.chat_id) for w in after[0]] == [
        (w.id, w.status, w.chat_id) for w in before[0]
    ]
    assert after[1:] == before[1:]
    new = sandbox.messages(GROUP)[group_before:]
    assert all(REFUSAL in (m.text or "") for m in new)
    assert sandbox.calls_to("sendDocument") == []
    assert sandbox.messages(MEMBER) == []

    # A moderator's reset confirmation cannot be pressed by a member either.
    confirm = await command(sandbox, MOD, GROUP, "/reset", lambda m: bool(m.buttons))
    yes = next(b for b in confirm.buttons if b["callback_data"].endswith(":yes"))
    query = sandbox.press_button(MEMBER, confirm.message_id, yes["callback_data"], chat_id=GROUP)
    answer = await sandbox.wait_for_answer(query, 10)
    assert "Nur Moderierende" in str(answer)
    assert (await db_state(bot))[1:] == before[1:]


async def test_reset_clears_the_test_run(sandbox: BotApiServer, bot: BotProcess) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    await crowd(sandbox, code, range(3101, 3104))
    await wait_live(sandbox, GROUP, "Fertig: 3")
    confirm = await command(sandbox, MOD, GROUP, "/reset", lambda m: bool(m.buttons))
    no = next(b for b in confirm.buttons if b["callback_data"].endswith(":no"))
    mark = sandbox.mark()
    sandbox.press_button(MOD, confirm.message_id, no["callback_data"], chat_id=GROUP)
    await sandbox.wait_for(lambda m: "Nichts gelöscht" in (m.text or ""), 10, since=mark)
    assert (await db_state(bot))[1] == 3
    confirm = await command(sandbox, MOD, GROUP, "/reset", lambda m: bool(m.buttons))
    yes = next(b for b in confirm.buttons if b["callback_data"].endswith(":yes"))
    mark = sandbox.mark()
    sandbox.press_button(MOD, confirm.message_id, yes["callback_data"], chat_id=GROUP)
    done = await sandbox.wait_for(lambda m: "zurückgesetzt" in (m.text or ""), 10, since=mark)
    assert "3 Durchläufe" in (done.text or "")
    workshops, runs, types = await db_state(bot)
    assert (runs, sum(types.values())) == (0, 0)
    assert workshops[0].status == "open"
    await wait_live(sandbox, GROUP, "Beigetreten: 0 · Fertig: 0")


async def test_close_reopen_and_late_arrival(sandbox: BotApiServer, bot: BotProcess) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    closed = await command(sandbox, MOD, GROUP, "/close", lambda m: "Sitzung" in (m.text or ""))
    assert "ist geschlossen" in (closed.text or "")
    late = Person(sandbox, 3201, "Spät")
    notice = await late.say(f"/start {code}")
    assert "bereits geschlossen" in (notice.text or "")
    await wait_live(sandbox, GROUP, "Die Sitzung ist geschlossen")
    reopened = await command(sandbox, MOD, GROUP, "/reopen", lambda m: "wieder" in (m.text or ""))
    assert "wieder geöffnet" in (reopened.text or "")
    assert (await db_state(bot))[0][0].status == "open"


async def test_status_and_export_go_to_the_moderator_privately(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    people, _ = await crowd(sandbox, code, range(3301, 3305))
    halfway = Person(sandbox, 3399, "Halb")
    await halfway.join(code)

    # Never started the bot: asked in the group to /start it first, nothing else revealed.
    reply = await command(
        sandbox, MOD, GROUP, "/export", lambda m: "starten Sie mich" in (m.text or "")
    )
    assert reply.buttons[0]["url"].startswith("https://t.me/")
    assert [c for c in sandbox.calls_to("sendDocument") if c.status == 200] == []

    sandbox.send_text(MOD, "/help")  # the moderator opens the private chat
    await sandbox.wait_for(lambda _m: True, 10, chat_id=MOD)
    status = await command(
        sandbox, MOD, GROUP, "/status", lambda m: "Stand" in (m.text or ""), where=MOD
    )
    text = status.text or ""
    assert "Beigetreten: 5" in text
    assert "Fertig: 4" in text
    assert "In Arbeit: 1" in text
    assert f"Frage 1 ({load_questionnaire().items[0].id}): 1" in text

    mark = sandbox.mark()
    sandbox.send_text(MOD, "/export", chat_id=GROUP)
    await sandbox.wait_for(
        lambda m: m.document is not None and (m.document.file_name or "").endswith(".xlsx"),
        20,
        chat_id=MOD,
        since=mark,
    )
    docs = {
        (m.document.file_name or "").rsplit(".", 1)[1]: m.document.data
        for m in sandbox.messages(MOD)
        if m.document is not None
    }
    csv = pd.read_csv(io.BytesIO(docs["csv"]), dtype=str, encoding="utf-8-sig").fillna("")
    xlsx = pd.read_excel(io.BytesIO(docs["xlsx"]), dtype=str).fillna("")
    for frame in (csv, xlsx):
        finished = frame[frame["status"] == "finished"]
        items = list(people[0].pressed)
        got = sorted(tuple(row[i] for i in items) for _, row in finished.iterrows())
        want = sorted(tuple(p.pressed[i] for i in items) for p in people)
        assert got == want
        assert set(frame["participant"].str[:2]) == {"p-"}
        assert len(frame) == 5
    raw = docs["csv"].decode("utf-8-sig")
    for person in [*people, halfway]:
        assert person.first_name not in raw
        assert str(person.user_id) not in raw


async def test_summary_text_is_posted_when_its_chart_is_refused(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    await crowd(sandbox, code, range(7101, 7104))
    await wait_live(sandbox, GROUP, "Fertig: 3")
    photos_before = sum(m.photo is not None for m in sandbox.messages(GROUP))
    sandbox.inject_fault(["sendPhoto"], status=500, count=1, chat_id=GROUP)
    post = await command(sandbox, MOD, GROUP, "/summary", lambda m: "Das D-Team" in (m.text or ""))
    assert sum(summary_counts(post.text or "").values()) == 3
    assert sum(m.photo is not None for m in sandbox.messages(GROUP)) == photos_before
    assert sandbox.stats()["status_500"] == 1

"""Hostile actors against the real bot: an outsider, a participant and a foreign group's admin
press forged buttons and send moderator commands; nothing is revealed or changed."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.models import Participant, Run, Workshop
from tests.e2e.harness import BotProcess, Person, make_settings
from tests.e2e.websession import (
    command,
    finish,
    live_message,
    make_group,
    open_session,
    result_type,
    wait_live,
)
from tests.support.database import reading

GROUP, MODERATOR = -8001, 8001
FOREIGN_GROUP, FOREIGN_ADMIN = -8002, 8301
PARTICIPANT, OUTSIDER = 8101, 8201
TITLE = "Runde G"


def forged(code: str, workshop_id: int, run_id: int) -> list[str]:
    """Every button this bot makes, with the ids and codes an attacker can guess or copy."""
    return [
        "c",
        "c:1",
        f"c:{workshop_id}",
        "n",
        f"n:{workshop_id}",
        f"j:{code}",
        "j:1",
        "o",
        "l:en",
        f"a:{run_id}:g01:5",
        f"b:{run_id}:g01",
        f"r:{run_id}",
        "d:yes",
        "m:off",
        "s:on",
        "p:bedaechtige",
        f"x:{workshop_id}:yes",
        "x:1:yes",
        "r:99999999999999999999",
    ]


Snapshot = tuple[
    list[tuple[int | None, str, str | None, int, bool]], int, int, Counter[int | None]
]


async def snapshot(bot: BotProcess) -> Snapshot:
    """Workshops (id, status, title, presenter state), participants, newest run, finished runs."""
    async with reading(bot.settings.database_url) as s:
        rows = await s.execute(select(Workshop).order_by(col(Workshop.id)))
        workshops: list[tuple[int | None, str, str | None, int, bool]] = [
            (w.id, w.status, w.title, w.screen_epoch, w.screen_revealed) for w in rows.scalars()
        ]
        count = select(func.count()).select_from(Participant)
        participants = int((await s.execute(count)).scalar_one())
        newest = (await s.execute(select(func.max(Run.id)))).scalar_one()
        done = select(col(Run.workshop_id)).where(col(Run.status) == "finished")
        finished = Counter((await s.execute(done)).scalars().all())
        return workshops, participants, int(newest or 0), finished


@pytest.mark.timeout(240)
async def test_forged_buttons_and_foreign_commands_change_nothing(
    sandbox: BotApiServer, database_url: str
) -> None:
    bot = BotProcess(sandbox, make_settings(sandbox.root, database_url, privacy_threshold=1))
    await bot.start()
    try:
        make_group(sandbox, GROUP, MODERATOR)
        make_group(sandbox, FOREIGN_GROUP, FOREIGN_ADMIN)
        sandbox.set_member(GROUP, FOREIGN_ADMIN, "member")  # admin elsewhere, a member here
        code = await open_session(sandbox, MODERATOR, GROUP, TITLE)
        await open_session(sandbox, FOREIGN_ADMIN, FOREIGN_GROUP, "Fremd")
        participant = Person(sandbox, PARTICIPANT, "Pia")
        told = await finish(participant, code, seed=3)
        assert told == result_type(participant)
        await wait_live(sandbox, GROUP, "1")
        live = live_message(sandbox, GROUP)
        assert live is not None
        outsider = Person(sandbox, OUTSIDER, "Otto")

        before = await snapshot(bot)
        workshop_id = next(w[0] for w in before[0] if w[2] == TITLE)
        assert workshop_id is not None
        assert before[3][workshop_id] == 1
        run_id = before[2]  # the participant's finished run
        group_before = [(m.message_id, m.text) for m in sandbox.messages(GROUP)]
        mark = sandbox.mark()

        # 1. Every forged button on the group's live message, by every kind of actor.
        for actor in (OUTSIDER, FOREIGN_ADMIN, PARTICIPANT):
            for data in forged(code, workshop_id, run_id):
                query = sandbox.press_button(actor, live.message_id, data, GROUP, check=False)
                answer = await sandbox.wait_for_answer(query, 15)
                assert answer is not None, (actor, data)

        # 2. A foreign group's admin tries the moderator commands in this group.
        for text in ("/close", "/reset", "/summary", "/teams 2", "/export", "/status"):
            await command(sandbox, FOREIGN_ADMIN, GROUP, text, timeout=15)

        # 3. The outsider forges a join by id in private chat and answers everything.
        welcome = await outsider.say("/start")
        assert TITLE not in (
            welcome.text or ""
        )  # not offered a session of a group they are not in
        query = sandbox.press_button(OUTSIDER, welcome.message_id, f"c:{workshop_id}", check=False)
        await sandbox.wait_for_answer(query, 15)
        first = outsider.question()
        if first is not None:  # consent given: the run is the outsider's own, not the group's
            await outsider.answer_all(first)

        after = await snapshot(bot)
        assert after[0] == before[0]  # no session closed, reset or renamed
        assert after[3][workshop_id] == 1  # still only the participant counts in the session
        group_after = [(m.message_id, m.text) for m in sandbox.messages(GROUP)]
        unchanged = [m for m in group_after if m[0] in dict(group_before)]
        assert unchanged == group_before  # the live message and every other post are untouched
        new_posts = [text or "" for mid, text in group_after if mid not in dict(group_before)]
        assert not any("D-Team" in t or TITLE in t for t in new_posts), new_posts
        photos = [m for m in sandbox.messages(GROUP) if m.photo is not None]
        assert len(photos) == 1  # only the session's QR code; no chart posted
        refused = [
            (c.method, c.status, c.description)
            for c in sandbox.calls
            if 400 <= c.status < 500 and "not modified" not in (c.description or "")
        ]
        assert refused == []
        assert sandbox.mark() > mark
    finally:
        await bot.stop()


COMMANDS = (
    "/start",
    "/session Übernahme",
    "/close",
    "/reopen",
    "/reset",
    "/summary",
    "/teams 2",
    "/teams ²",
    "/status",
    "/export",
    "/beamer",
    "/beamer reveal",
    "/beamer off",
    "/schedule soon=1",
    "/schedule 31.12.9999 23:00 24h",
    "/unschedule",
    "/reminders",
    "/help",
    "/language",
    "/privacy",
    "/about",
    "/delete_me",
    "/unknown",
)


async def settle(sandbox: BotApiServer, user_id: int, chat_id: int) -> None:
    """Waits until the bot handled everything this user sent (it handles a user in order)."""
    chat = sandbox.messages(chat_id)
    target = chat[-1].message_id if chat else 1
    query = sandbox.press_button(user_id, target, "_", chat_id, check=False)
    await sandbox.wait_for_answer(query, 20)


@pytest.mark.timeout(240)
async def test_every_command_in_every_chat_reveals_and_changes_nothing(
    sandbox: BotApiServer, database_url: str
) -> None:
    bot = BotProcess(sandbox, make_settings(sandbox.root, database_url, privacy_threshold=1))
    await bot.start()
    try:
        make_group(sandbox, GROUP, MODERATOR)
        make_group(sandbox, FOREIGN_GROUP, FOREIGN_ADMIN)
        sandbox.set_member(GROUP, FOREIGN_ADMIN, "member")
        Person(sandbox, OUTSIDER, "Otto")
        sandbox.set_member(GROUP, OUTSIDER, "member")
        code = await open_session(sandbox, MODERATOR, GROUP, TITLE)
        participant = Person(sandbox, PARTICIPANT, "Pia")
        await finish(participant, code, seed=5)
        await wait_live(sandbox, GROUP, "1")
        before = await snapshot(bot)
        seen_before = {c: len(sandbox.messages(c)) for c in (GROUP, FOREIGN_GROUP)}

        for actor in (OUTSIDER, FOREIGN_ADMIN):
            for chat in (GROUP, actor):  # a group where they are only members, their private chat
                for text in COMMANDS:
                    sandbox.send_text(actor, text, chat_id=chat)
                    await settle(sandbox, actor, chat)

        after = await snapshot(bot)
        assert after[0] == before[0]  # sessions: same status and title
        assert after[3] == before[3]  # finished runs per session unchanged
        for actor in (OUTSIDER, FOREIGN_ADMIN):
            private = " ".join((m.text or "") + (m.caption or "") for m in sandbox.messages(actor))
            assert code not in private  # neither the join code nor the title leak privately
            assert TITLE not in private
            assert "/screen/" not in private  # no presenter link
        new_in_group = sandbox.messages(GROUP)[seen_before[GROUP] :]
        assert all(m.photo is None for m in new_in_group)  # no chart, no QR code
        posts = ("Das D-Team von", "D-Team-Breakouts", "Teilnehmende haben den Fragebogen")
        leaked = [m.text for m in new_in_group if any(p in (m.text or "") for p in posts)]
        assert leaked == []
        refused = [
            (c.method, c.status, c.description)
            for c in sandbox.calls
            if 400 <= c.status < 500 and "not modified" not in (c.description or "")
        ]
        assert refused == []
    finally:
        await bot.stop()

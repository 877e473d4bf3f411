"""Several groups at once, D-Team breakouts, supergroup migration, and the bare /start offer."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select
from sqlmodel import col

from sandbox.server import BotApiServer
from storage.models import Run
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
from tests.support.database import reading

G1, G2, MOD1, MOD2 = -4001, -4002, 902, 903


async def test_two_groups_do_not_mix(sandbox: BotApiServer, bot: BotProcess) -> None:
    make_group(sandbox, G1, MOD1)
    make_group(sandbox, G2, MOD2)
    code1, code2 = await asyncio.gather(
        open_session(sandbox, MOD1, G1, "Kreis A"), open_session(sandbox, MOD2, G2, "Stadt B")
    )
    assert code1 != code2
    (_, types1), (_, types2) = await asyncio.gather(
        crowd(sandbox, code1, range(5001, 5004)), crowd(sandbox, code2, range(5101, 5105))
    )
    await wait_live(sandbox, G1, "Beigetreten: 3 · Fertig: 3")
    await wait_live(sandbox, G2, "Beigetreten: 4 · Fertig: 4")
    post1 = await command(sandbox, MOD1, G1, "/summary", lambda m: "D-Team" in (m.text or ""))
    post2 = await command(sandbox, MOD2, G2, "/summary", lambda m: "D-Team" in (m.text or ""))
    assert "Kreis A" in (post1.text or "")
    assert "Stadt B" in (post2.text or "")
    assert sum(summary_counts(post1.text or "").values()) == 3
    # 4 finished, the composition counts the first 3 (steps of the privacy threshold)
    assert sum(summary_counts(post2.text or "").values()) == 3
    assert summary_counts(post1.text or "") == {
        t: types1.get(t, 0) for t in summary_counts(post1.text or "")
    }
    assert all(c <= types2.get(t, 0) for t, c in summary_counts(post2.text or "").items())


async def test_teams_of_four_differ_by_at_most_one(sandbox: BotApiServer, bot: BotProcess) -> None:
    make_group(sandbox, G1, MOD1)
    code = await open_session(sandbox, MOD1, G1)
    people, _ = await crowd(sandbox, code, range(6001, 6011))
    for person in people[:2]:  # two agree to be named to their team
        card = next(
            m for m in sandbox.messages(person.user_id) if (m.text or "").startswith("Steckbrief")
        )
        share = next(b for b in card.buttons if b["callback_data"] == "s:on")
        await person.press(card, share["callback_data"])
    post = await command(sandbox, MOD1, G1, "/teams 4", lambda m: "Breakouts" in (m.text or ""))
    sizes = [int(s) for s in re.findall(r"^Team \d+ \((\d+)\):", post.text or "", re.M)]
    assert sum(sizes) == 10
    assert max(sizes) - min(sizes) <= 1
    for person in people:
        assert person.first_name not in (post.text or "")
        notice = await sandbox.wait_for(
            lambda m: "Sie sind in Team" in (m.text or ""), 20, chat_id=person.user_id
        )
        assert re.search(r"Team (\d+)", notice.text or "")
    async with reading(bot.settings.database_url) as s:
        teams = list(
            (await s.execute(select(col(Run.team)).where(col(Run.status) == "finished"))).scalars()
        )
    assert None not in teams
    assert sorted(teams.count(t) for t in set(teams)) == sorted(sizes)
    named = {p.first_name for p in people[:2]}
    for person in people[2:]:  # a teammate of a named person sees only that name
        text = next(
            m.text or ""
            for m in sandbox.messages(person.user_id)
            if "Sie sind in Team" in (m.text or "")
        )
        assert set(re.findall(r"P\d+", text)) <= named


async def test_supergroup_migration_keeps_the_session(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    old, new = -7001, -1000000007001
    make_group(sandbox, old, MOD1)
    code = await open_session(sandbox, MOD1, old)
    sandbox.migrate_group(old, new, by_user_id=MOD1)
    for _ in range(100):
        workshops, _, _ = await db_state(bot)
        if workshops[0].chat_id == new:
            break
        await asyncio.sleep(0.05)
    assert workshops[0].chat_id == new
    await crowd(sandbox, code, range(7101, 7104))
    await wait_live(sandbox, new, "Fertig: 3")
    post = await command(sandbox, MOD1, new, "/summary", lambda m: "D-Team" in (m.text or ""))
    assert sum(summary_counts(post.text or "").values()) == 3


async def test_bare_start_offers_the_open_session_of_my_group(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, G1, MOD1)
    make_group(sandbox, G2, MOD2)
    await open_session(sandbox, MOD1, G1, "Meine Gruppe")
    await open_session(sandbox, MOD2, G2, "Fremde Gruppe")
    ada = Person(sandbox, 8001, "Ada")
    sandbox.set_member(G1, ada.user_id, "member")
    offer = await ada.say("/start")
    labels = [b["text"] for b in offer.buttons]
    assert any("Meine Gruppe" in label for label in labels)
    assert not any("Fremde Gruppe" in label for label in labels)
    join = next(b for b in offer.buttons if "Meine Gruppe" in b["text"])
    await ada.press_and_wait(
        offer, join["callback_data"], lambda m: (m.text or "").startswith("Frage 1")
    )
    async with reading(bot.settings.database_url) as s:
        run = (await s.execute(select(Run))).scalar_one()
    workshops, _, _ = await db_state(bot)
    assert run.workshop_id == next(w.id for w in workshops if w.chat_id == G1)
    loner = Person(sandbox, 8002, "Solo")
    welcome = await loner.say("/start")
    assert next(b["callback_data"] for b in welcome.buttons) == "c"

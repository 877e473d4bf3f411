"""The group never learns one person's type by subtraction (issue 11, item 4).

Per-type counts come from the first floor(n/k)*k finishers only: the live message and /summary
stay the same when one more person finishes, until k more have. /teams forms no team smaller
than k, since the group sees each team's type mix.
"""

from __future__ import annotations

import re
from collections import Counter

from sandbox.models import StoredMessage
from sandbox.server import BotApiServer
from tests.e2e.harness import BotProcess, Person
from tests.e2e.websession import (
    NAMES_DE,
    command,
    crowd,
    finish,
    make_group,
    open_session,
    summary_counts,
    wait_live,
)

GROUP, MOD = -8801, 881
K = 3  # the bot fixture runs with the default DTEAM_PRIVACY_THRESHOLD


def _post(message: StoredMessage) -> bool:
    text = message.text or ""
    return "Das D-Team" in text or "fehlen noch" in text


async def test_one_more_finisher_changes_no_count_until_the_step_is_complete(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP, "Klausur")
    told: list[str] = []  # each finisher's type, in the order they finished
    live: dict[int, dict[str, int]] = {}
    posted: dict[int, dict[str, int]] = {}
    texts: dict[int, tuple[str, str]] = {}
    for n, uid in enumerate(range(8001, 8001 + 2 * K), 1):
        person = Person(sandbox, uid, f"P{uid}", timeout=30)
        told.append(await finish(person, code, seed=uid))
        shown = await wait_live(sandbox, GROUP, f"Fertig: {n}")
        post = await command(sandbox, MOD, GROUP, "/summary", _post)
        live[n], posted[n] = summary_counts(shown), summary_counts(post.text or "")
        texts[n] = (shown, post.text or "")

    def tally(first: int) -> dict[str, int]:
        counts = Counter(told[:first])
        return {t: counts.get(t, 0) for t in NAMES_DE.values()}

    for n in range(1, K):
        assert live[n] == posted[n] == {}, n
    for n in range(K, 2 * K):  # K, K+1, ..., 2K-1 finished: the first K are shown
        assert live[n] == posted[n] == tally(K), (n, told)
    assert live[2 * K] == posted[2 * K] == tally(2 * K), told
    assert "die ersten 3" in texts[K + 1][0]
    assert "die ersten 3 von ihnen" in texts[K + 1][1]
    assert "die ersten" not in texts[K][1]  # nothing to explain when everyone is counted


async def test_teams_below_the_threshold_are_refused_or_merged(
    sandbox: BotApiServer, bot: BotProcess
) -> None:
    make_group(sandbox, GROUP, MOD)
    code = await open_session(sandbox, MOD, GROUP)
    await crowd(sandbox, code, range(8101, 8106))
    await wait_live(sandbox, GROUP, "Fertig: 5")
    refused = await command(
        sandbox, MOD, GROUP, "/teams 2", lambda m: "mindestens" in (m.text or "")
    )
    assert f"mindestens {K} Personen" in (refused.text or "")
    assert "/teams 3" in (refused.text or "")
    post = await command(sandbox, MOD, GROUP, "/teams 3", lambda m: "Breakouts" in (m.text or ""))
    text = post.text or ""
    sizes = [int(s) for s in re.findall(r"^Team \d+ \((\d+)\):", text, re.M)]
    assert sizes == [5]  # 3 + 2 would have shown a team of two its mix
    assert "1 statt 2 Teams" in text

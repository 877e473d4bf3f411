"""A crowd pressing random buttons, the bot SIGKILLed half-way: /summary equals what they saw.

CI runs 30 participants per mode; `scripts/faults` (DTEAM_FAULTS_FULL=1) runs 200.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.crowd import crowd_run
from tests.faults.harness import FULL

N = 200 if FULL else 30


@pytest.mark.timeout(1200 if FULL else 300)  # 200 people on a busy 2-core VM: about 4 min
@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_crowd_with_a_kill_ends_with_summary_equal_to_what_people_were_told(
    webhook: bool, database_url: str, tmp_path: Path
) -> None:
    report = await crowd_run(database_url, tmp_path / "bot.log", people=N, webhook=webhook)
    print(f"\n{report.line()}\n{report.answers_problem or ''}\n{report.differing}")  # noqa: T201
    assert report.kills == 1
    assert report.results >= N  # everyone was shown a result
    assert sum(report.announced.values()) > 0
    assert report.differing == []
    assert report.stored == report.announced
    assert report.summary == dict(report.announced)
    assert report.answers_problem is None
    # Besides "message is not modified" (success to the bot), only Telegram's refusal of a
    # second answer to a press the killed process had answered, re-delivered after the kill
    # (webhook: the dead process never acknowledged it).
    assert report.other_refusals == {}
    if not webhook:
        assert report.answered_again == 0
    assert "unhandled error" not in (tmp_path / "bot.log").read_text(errors="replace")

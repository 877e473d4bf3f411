"""`dteam demo` end to end: the real bot, the sandbox, a few participants, files in a folder."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from bot.demo import run_demo
from bot.settings import load_settings


async def test_demo_writes_post_chart_presenter_page_and_export(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    settings = load_settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/never-used")
    assert await run_demo(settings, participants=5, out=out) == 0
    post = (out / "dteam-post.md").read_text(encoding="utf-8")
    assert "**Das D-Team von „Demo-Workshop“**" in post
    assert "5 Teilnehmende haben den Fragebogen abgeschlossen." in post
    assert (out / "dteam-post.png").read_bytes().startswith(b"\x89PNG")
    rows = list(csv.DictReader(io.StringIO((out / "dteam-session-1.csv").read_text("utf-8-sig"))))
    assert len(rows) == 5
    assert {r["status"] for r in rows} == {"finished"}
    assert len({r["main_type"] for r in rows}) >= 2  # answers lean to different types
    xlsx = pd.read_excel(out / "dteam-session-1.xlsx")
    assert len(xlsx) == 5
    page = (out / "presenter.html").read_text(encoding="utf-8")
    rows = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td class="num count">(\d+)</td>\s*'
        r'<td class="num share">(\d+) %</td>',
        page,
    )
    assert len(rows) == 4
    for name, count, share in rows:  # the post's numbers and rounding, the first 3 of 5
        assert f"• {name}: {count} ({share} %)" in post
    assert sum(int(count) for _, count, _ in rows) == 3
    assert "<style>" in page
    assert "<script" not in page
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "presenter.html" in readme
    assert "dteam-post.md" in readme
    # Both flows: every second participant answered in the Mini App (all 5 rows are finished).
    assert "3 in the chat" in readme
    assert "2 in the Mini App" in readme
    assert "dteam-session-1.csv" in readme
    assert "unhandled error" not in (out / "bot.log").read_text(encoding="utf-8")
    # Its own SQLite file, never the configured database (which does not even exist here).
    assert (out / "demo.sqlite").stat().st_size > 0


async def test_demo_refuses_a_silly_size(tmp_path: Path) -> None:
    assert await run_demo(load_settings(), participants=0, out=tmp_path) == 2
    assert not (tmp_path / "README.txt").is_file()

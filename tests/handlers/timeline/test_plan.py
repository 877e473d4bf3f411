"""The pure timeline: /schedule parsing and the derived timed messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.core.i18n import Texts
from handlers.timeline.plan import (
    Config,
    Kind,
    ScheduleError,
    format_duration,
    parse_duration,
    parse_request,
    plan,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("args", "start", "minutes"),
    [
        (["29.10.2026", "17:00"], datetime(2026, 10, 29, 16, 0, tzinfo=UTC), 90),
        (["29.10.2026", "17:00", "90m"], datetime(2026, 10, 29, 16, 0, tzinfo=UTC), 90),
        (["2026-10-29", "17:00", "1h30m"], datetime(2026, 10, 29, 16, 0, tzinfo=UTC), 90),
        (["2026-10-29T09:30", "2h"], datetime(2026, 10, 29, 8, 30, tzinfo=UTC), 120),
        (["1.10.2026", "17.00", "45min"], datetime(2026, 10, 1, 15, 0, tzinfo=UTC), 45),
        (["24.10.2026 17:00 3h"], datetime(2026, 10, 24, 15, 0, tzinfo=UTC), 180),  # CEST
    ],
)
def test_good_input(args: list[str], start: datetime, minutes: int) -> None:
    req = parse_request(args, BERLIN, NOW)
    assert req.starts_at == start
    assert req.ends_at - req.starts_at == timedelta(minutes=minutes)
    assert req.starts_at.tzinfo is not None


def test_session_across_dst_lasts_its_real_length() -> None:
    # 25 Oct 2026, clocks go back at 03:00 CEST: 01:30 + 3h is 03:30 UTC+1 wall time.
    req = parse_request(["25.10.2026", "01:30", "3h"], BERLIN, NOW)
    assert req.ends_at - req.starts_at == timedelta(hours=3)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ([], "schedule.usage"),
        (["29.10.2026"], "schedule.usage"),
        (["32.10.2026", "17:00"], "schedule.bad_date"),
        (["29/10/2026", "17:00"], "schedule.bad_date"),
        (["tomorrow", "17:00"], "schedule.bad_date"),
        (["29.10.2026", "25:00"], "schedule.bad_time"),
        (["29.10.2026", "5pm"], "schedule.bad_time"),
        (["29.10.2026", "17:00", "lang"], "schedule.bad_duration"),
        (["29.10.2026", "17:00", "1m"], "schedule.bad_length"),
        (["29.10.2026", "17:00", "2d"], "schedule.bad_length"),
        (["01.01.2020", "17:00"], "schedule.in_past"),
        (["29.10.2026", "17:00", "90m", "colour=red"], "schedule.bad_option"),
        (["29.10.2026", "17:00", "retention=off"], "schedule.bad_option"),
    ],
)
def test_bad_input_names_the_problem(args: list[str], key: str) -> None:
    with pytest.raises(ScheduleError) as exc:
        parse_request(args, BERLIN, NOW)
    assert exc.value.key == key
    texts = Texts.load()
    for lang in ("de", "en"):
        assert texts.get(lang, key, **exc.value.values)  # every error has a text
        assert "/schedule 29.10.2026 17:00" in texts.get(lang, "schedule.example")


def test_options_override_and_switch_off() -> None:
    req = parse_request(["29.10.2026", "17:00", "soon=30m", "day=off"], BERLIN, NOW)
    assert req.overrides == {"soon": timedelta(minutes=30), "day": None}


@pytest.mark.parametrize(("text", "minutes"), [("90m", 90), ("1h30m", 90), ("2h", 120)])
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)
    assert parse_duration(format_duration(timedelta(minutes=minutes))) == timedelta(
        minutes=minutes
    )


def test_default_plan_in_order_with_deadlines() -> None:
    start = datetime(2026, 10, 29, 16, 0, tzinfo=UTC)
    end = start + timedelta(minutes=90)
    items = plan(start, end, Config())
    assert [p.kind for p in items] == [
        Kind.REMIND_DAY,
        Kind.REMIND_SOON,
        Kind.ANNOUNCE,
        Kind.NUDGE,
        Kind.LAST_CALL,
        Kind.CLOSE,
        Kind.RETENTION_NOTICE,
        Kind.PURGE,
    ]
    due = {p.kind: p.due_at for p in items}
    assert due[Kind.REMIND_DAY] == start - timedelta(days=1)
    assert due[Kind.REMIND_SOON] == start - timedelta(minutes=15)
    assert due[Kind.NUDGE] == start + timedelta(minutes=10)
    assert due[Kind.LAST_CALL] == end - timedelta(minutes=10)
    assert due[Kind.PURGE] == end + timedelta(days=30)
    assert due[Kind.RETENTION_NOTICE] == end + timedelta(days=28)
    deadline = {p.kind: p.deadline for p in items}
    assert deadline[Kind.REMIND_SOON] == start  # "15 minutes before" makes no sense after it
    assert deadline[Kind.CLOSE] is None  # closing late is still closing


def test_per_session_settings() -> None:
    config = Config.from_settings(
        {"timeline": {"day": None, "soon": 1800, "retention": 7 * 86400}}, retention_days=30
    )
    assert config.day is None
    assert config.soon == timedelta(minutes=30)
    assert config.retention == timedelta(days=7)
    start = datetime(2026, 10, 29, 16, 0, tzinfo=UTC)
    kinds = [p.kind for p in plan(start, start + timedelta(hours=1), config)]
    assert Kind.REMIND_DAY not in kinds
    assert Config.from_settings({}, retention_days=14).retention == timedelta(days=14)

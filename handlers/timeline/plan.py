"""The workshop timeline (pure): parse /schedule, derive the timed messages and their deadlines."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_DURATION = timedelta(minutes=90)
MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)  # a workshop is planned for this year, never for 9999
SETTINGS_KEY = "timeline"
ANNOUNCE_WINDOW = timedelta(minutes=30)  # a late "it is open" still helps, a stale one not


class Kind(StrEnum):
    """What a scheduled message does; at most one row per kind and workshop."""

    REMIND_DAY = "remind_day"  # participants, a day before the start
    REMIND_SOON = "remind_soon"  # participants, shortly before the start
    ANNOUNCE = "announce"  # group, at the start: the questionnaire is open
    NUDGE = "nudge"  # participants idle in an unfinished run, during the workshop
    LAST_CALL = "last_call"  # group, shortly before the end: how many finished
    CLOSE = "close"  # group (+ channel): close the workshop, post the summary
    RETENTION_NOTICE = "retention_notice"  # moderator, before the raw answers are deleted
    PURGE = "purge"  # delete raw answers, keep the aggregate


# Timeline options: /schedule … key=value; "off" switches a message off.
OPTION_KEYS = {"day": Kind.REMIND_DAY, "soon": Kind.REMIND_SOON, "nudge": Kind.NUDGE}
OPTION_KEYS |= {"last": Kind.LAST_CALL, "retention": Kind.PURGE, "notice": Kind.RETENTION_NOTICE}


@dataclass(frozen=True)
class Config:
    """Offsets of the timed messages; None switches one off."""

    day: timedelta | None = timedelta(days=1)
    soon: timedelta | None = timedelta(minutes=15)
    nudge: timedelta | None = timedelta(minutes=10)
    last: timedelta | None = timedelta(minutes=10)
    retention: timedelta = timedelta(days=30)
    notice: timedelta | None = timedelta(days=2)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], retention_days: int = 30) -> Config:
        """Reads the per-workshop overrides stored in Workshop.settings (seconds, or None)."""
        stored = settings.get(SETTINGS_KEY, {}) or {}
        base = cls(retention=timedelta(days=retention_days))
        values: dict[str, timedelta | None] = {}
        for key in OPTION_KEYS:
            if key in stored:
                raw = stored[key]
                values[key] = None if raw is None else timedelta(seconds=int(raw))
        kept = values.get("retention", base.retention)
        # The operator's DTEAM_RETENTION_DAYS is a cap, also for values stored before it was.
        values["retention"] = base.retention if kept is None else min(kept, base.retention)
        return replace(base, **values)  # type: ignore[arg-type]

    def to_settings(self, overrides: Sequence[str]) -> dict[str, int | None]:
        """Returns the overridden offsets in seconds, for Workshop.settings[SETTINGS_KEY]."""
        out: dict[str, int | None] = {}
        for key in overrides:
            value: timedelta | None = getattr(self, key)
            out[key] = None if value is None else int(value.total_seconds())
        return out


@dataclass(frozen=True)
class Planned:
    """A timed message: when it is due and until when it still makes sense (None: always)."""

    kind: Kind
    due_at: datetime
    deadline: datetime | None


@dataclass(frozen=True)
class Request:
    """A parsed /schedule request."""

    starts_at: datetime
    ends_at: datetime
    overrides: dict[str, timedelta | None]


class ScheduleError(ValueError):
    """Input that is not a valid /schedule request; key names the text explaining why."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


_DE_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})(?:\s*(?:Uhr|h))?$", re.IGNORECASE)
_DURATION = re.compile(r"^(?:(\d{1,2})h)?(?:(\d{1,4})(?:m|min))?$", re.IGNORECASE)
_DAYS = re.compile(r"^(\d{1,4})d$", re.IGNORECASE)


def parse_date(text: str) -> date:
    """Parses 29.10.2026 or 2026-10-29."""
    match = _DE_DATE.match(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        match = _ISO_DATE.match(text)
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ScheduleError("schedule.bad_date", value=text) from None
    raise ScheduleError("schedule.bad_date", value=text)


def parse_time(text: str) -> time:
    """Parses 17:00 (also 17.00, 9:30, 17:00h)."""
    match = _TIME.match(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError("schedule.bad_time", value=text)
    return time(int(match[1]), int(match[2]))


def parse_duration(text: str) -> timedelta:
    """Parses 90m, 90min, 1h30m, 2h, 3d; raises ScheduleError for anything else."""
    days = _DAYS.match(text)
    if days:
        return timedelta(days=int(days[1]))
    match = _DURATION.match(text)
    if not text or not match or (match[1] is None and match[2] is None):
        raise ScheduleError("schedule.bad_duration", value=text)
    return timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0))


def parse_request(args: Sequence[str], zone: ZoneInfo, now: datetime) -> Request:
    """Parses `<date> <time> [duration] [key=value…]` in zone; start must lie in the future."""
    words = [w for a in args for w in a.split()]
    if len(words) >= 1 and "T" in words[0] and not _DE_DATE.match(words[0]):
        day_text, _, time_text = words[0].partition("T")
        words = [day_text, time_text, *words[1:]]
    if len(words) < 2:
        raise ScheduleError("schedule.usage")
    day, clock = parse_date(words[0]), parse_time(words[1])
    # Checked on the date first: near year 1 or 9999 the zone arithmetic below overflows.
    if day > (now + MAX_AHEAD).date():
        raise ScheduleError("schedule.too_far", days=MAX_AHEAD.days)
    if day < (now - timedelta(days=2)).date():
        raise ScheduleError("schedule.in_past")
    rest = words[2:]
    duration = DEFAULT_DURATION
    if rest and "=" not in rest[0]:
        duration = parse_duration(rest.pop(0))
    if not timedelta(minutes=5) <= duration <= MAX_DURATION:
        raise ScheduleError("schedule.bad_length")
    overrides: dict[str, timedelta | None] = {}
    for word in rest:
        key, sep, value = word.partition("=")
        key = key.lower()
        if not sep or key not in OPTION_KEYS:
            raise ScheduleError("schedule.bad_option", value=word, keys=", ".join(OPTION_KEYS))
        if value.lower() in ("off", "aus", "0"):
            if key == "retention":
                raise ScheduleError("schedule.bad_option", value=word, keys=", ".join(OPTION_KEYS))
            overrides[key] = None
        else:
            overrides[key] = parse_duration(value)
    # Arithmetic in UTC: adding to a zoned datetime would add wall-clock time across DST.
    starts_at = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    if starts_at <= now:
        raise ScheduleError("schedule.in_past")
    if starts_at - now > MAX_AHEAD:
        raise ScheduleError("schedule.too_far", days=MAX_AHEAD.days)
    return Request(starts_at, starts_at + duration, overrides)


def plan(starts_at: datetime, ends_at: datetime, config: Config) -> list[Planned]:
    """Derives the timed messages of a workshop, in due order."""
    items: list[Planned] = []
    if config.day is not None:
        # Sensible until the short reminder takes over (or the start itself).
        cutoff = starts_at - (config.soon or timedelta(0))
        items.append(Planned(Kind.REMIND_DAY, starts_at - config.day, cutoff))
    if config.soon is not None:
        items.append(Planned(Kind.REMIND_SOON, starts_at - config.soon, starts_at))
    items.append(Planned(Kind.ANNOUNCE, starts_at, min(ends_at, starts_at + ANNOUNCE_WINDOW)))
    if config.nudge is not None:
        # First look for idle runs one idle time after the start; repeats until the end.
        items.append(Planned(Kind.NUDGE, starts_at + config.nudge, ends_at))
    if config.last is not None and ends_at - config.last > starts_at:
        items.append(Planned(Kind.LAST_CALL, ends_at - config.last, ends_at))
    items.append(Planned(Kind.CLOSE, ends_at, None))
    items.extend(retention_plan(ends_at, config))
    return sorted(items, key=lambda p: p.due_at)


def retention_plan(ended_at: datetime, config: Config) -> list[Planned]:
    """The retention notice to the moderator and the purge of the raw answers."""
    purge_at = ended_at + config.retention
    items = [Planned(Kind.PURGE, purge_at, None)]
    if config.notice is not None and config.notice < config.retention:
        items.insert(0, Planned(Kind.RETENTION_NOTICE, purge_at - config.notice, purge_at))
    return items


def planned(
    kind: str, starts_at: datetime | None, ends_at: datetime | None, config: Config
) -> Planned | None:
    """Returns the plan entry of one kind for a workshop's timeline, if it has one."""
    if ends_at is None:
        return None
    items = plan(starts_at, ends_at, config) if starts_at else retention_plan(ends_at, config)
    return next((p for p in items if p.kind == kind), None)


def format_duration(value: timedelta) -> str:
    """Formats a timedelta like the input: 1d, 2h, 1h30m, 15m."""
    minutes = int(value.total_seconds()) // 60
    if minutes and minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")

"""Callback data: one prefix per action, built and parsed here only, at most 64 bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64
_FIELD = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
_ID = re.compile(r"^[0-9]{1,10}$")
# Buttons carry run and workshop ids: INTEGER columns, 4 bytes on PostgreSQL (asyncpg refuses
# a larger value with a DBAPIError, which would pass for a database outage).
MAX_ID = 2**31 - 1


class Action(StrEnum):
    """What a button does; the prefix of its callback data."""

    # Buttons never carry a workshop's id: the workshop a person joins is stored with them
    # (consent, restart) or named by its join code, which the server checks like the link.
    CONSENT = "c"  # c (older messages: c:<anything>, ignored)
    LANGUAGE = "l"  # l:<lang>
    ANSWER = "a"  # a:<run>:<item>:<option>
    BACK = "b"  # b:<run>:<item>
    RESUME = "r"  # r:<run>
    RESTART = "n"  # n (older messages: n:<anything>, ignored)
    JOIN = "j"  # j:<join code>
    SOLO = "o"  # o: answer on one's own, for no workshop
    DELETE = "d"  # d:yes | d:no
    REMINDERS = "m"  # m:on | m:off
    SHARE_NAME = "s"  # s:on | s:off
    RESET = "x"  # x:<workshop id>:yes|no
    CARD_MORE = "p"  # p:<type id>: the rest of a profile card
    NOOP = "_"


@dataclass(frozen=True, slots=True)
class Callback:
    """Parsed callback data."""

    action: Action
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """Returns argument `index` as an id (0..MAX_ID), raising BadCallback for anything else.

        Out of range, a forged id would fail in the database driver (OverflowError on SQLite,
        DBAPIError on PostgreSQL) and look like a database outage, not a forged button.
        """
        raw = self.args[index] if index < len(self.args) else ""
        if not _ID.match(raw) or int(raw) > MAX_ID:
            raise BadCallback(f"argument {index} of {self.action!r} is not a number in range")
        return int(raw)


class BadCallback(ValueError):
    """Callback data that this bot did not make (forged, stale from another version, garbled)."""


_ARITY: dict[Action, int | tuple[int, ...]] = {
    Action.CONSENT: (0, 1),
    Action.LANGUAGE: 1,
    Action.ANSWER: 3,
    Action.BACK: 2,
    Action.RESUME: 1,
    Action.RESTART: (0, 1),
    Action.JOIN: 1,
    Action.SOLO: 0,
    Action.DELETE: 1,
    Action.REMINDERS: 1,
    Action.SHARE_NAME: 1,
    Action.RESET: 2,
    Action.CARD_MORE: 1,
    Action.NOOP: 0,
}


def _arity_ok(action: Action, count: int) -> bool:
    arity = _ARITY[action]
    return count in arity if isinstance(arity, tuple) else count == arity


def pattern(action: Action) -> str:
    """Returns the regex a CallbackQueryHandler uses to route this action's buttons."""
    return rf"^{action.value}(?::|$)"


def build(action: Action, *args: object) -> str:
    """Returns callback data for a button; raises ValueError if it would be invalid."""
    fields = [str(a) for a in args]
    if not _arity_ok(action, len(fields)) or not all(_FIELD.match(f) for f in fields):
        raise ValueError(f"bad callback fields for {action!r}: {fields}")
    data = ":".join([action.value, *fields])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None) -> Callback:
    """Parses callback data, raising BadCallback for anything this bot would not have built."""
    if not data or len(data.encode()) > MAX_BYTES:
        raise BadCallback("empty or oversized callback data")
    head, *fields = data.split(":")
    try:
        action = Action(head)
    except ValueError as exc:
        raise BadCallback(f"unknown callback prefix {head!r}") from exc
    if not _arity_ok(action, len(fields)) or not all(_FIELD.match(f) for f in fields):
        raise BadCallback(f"malformed callback data {data!r}")
    return Callback(action, tuple(fields))

"""Verifies a Telegram Mini App's launch data (initData) as Telegram specifies it.

secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token); the data is genuine when
hex(HMAC_SHA256(key=secret_key, msg=data_check_string)) equals its `hash` field, where
data_check_string is every other field as "key=value", sorted by key, joined by "\\n".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_LENGTH = 4096  # Telegram's initData is well under 1 KiB; anything huge is not from it
FUTURE_SKEW = 60.0  # seconds auth_date may lie ahead of our clock (clocks drift)


class InitDataError(ValueError):
    """The launch data is missing, malformed, forged or expired; the reason is for logs."""


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user who opened the Mini App, from verified initData only."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class InitData:
    """Verified launch data."""

    user: WebAppUser
    auth_date: int
    query_id: str | None = None
    start_param: str | None = None
    chat_type: str | None = None


def secret_key(bot_token: str) -> bytes:
    """Returns the key that signs this bot's initData (derived from its token)."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _fields(raw: str) -> dict[str, str]:
    if not raw:
        raise InitDataError("missing")
    if len(raw) > MAX_LENGTH:
        raise InitDataError("too long")
    if not raw.isascii():  # Telegram percent-encodes it; raw bytes could not even be hashed
        raise InitDataError("not a query string")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field appears twice")
    return fields


def _check_hash(fields: dict[str, str], key: bytes) -> None:
    given = fields.pop("hash", "")
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    expected = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataError("hash does not match")


def _user(raw: str | None) -> WebAppUser:
    try:
        data = json.loads(raw or "")
    except ValueError:
        raise InitDataError("user is not JSON") from None
    if not isinstance(data, dict):
        raise InitDataError("user is not an object")
    uid, first = data.get("id"), data.get("first_name")
    if type(uid) is not int or uid <= 0 or not isinstance(first, str):
        raise InitDataError("user lacks id or first_name")

    def text(name: str) -> str | None:
        value = data.get(name)
        return value if isinstance(value, str) else None

    return WebAppUser(uid, first, text("last_name"), text("username"), text("language_code"))


def verify(raw: str, *, key: bytes, max_age: float, now: float | None = None) -> InitData:
    """Returns the verified launch data; raises InitDataError when it is not genuine or fresh."""
    fields = _fields(raw)
    _check_hash(fields, key)
    try:
        auth_date = int(fields.get("auth_date", ""))
    except ValueError:
        raise InitDataError("auth_date is not a number") from None
    clock = time.time() if now is None else now
    if auth_date > clock + FUTURE_SKEW:
        raise InitDataError("auth_date lies in the future")
    if clock - auth_date > max_age:
        raise InitDataError("expired")
    return InitData(
        user=_user(fields.get("user")),
        auth_date=auth_date,
        query_id=fields.get("query_id"),
        start_param=fields.get("start_param"),
        chat_type=fields.get("chat_type"),
    )


class Verifier:
    """Verifies initData for one bot: the key derived once, the maximum age configured."""

    def __init__(self, bot_token: str, max_age: float) -> None:
        self._key = secret_key(bot_token)
        self.max_age = max_age

    def __call__(self, raw: str, *, now: float | None = None) -> InitData:
        """Returns the verified launch data; raises InitDataError otherwise."""
        return verify(raw, key=self._key, max_age=self.max_age, now=now)

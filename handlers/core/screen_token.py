"""Signed links to a workshop's presenter page: bound to the workshop, expiring, revocable.

Shared by /beamer (handlers/websession), which mints them, and the page (web/presenter),
which checks them.

A token is `<workshop id>.<epoch>.<expiry>.<signature>`: HMAC-SHA256 over the first three
fields with a key of its own (derived from the bot token, see bot/settings.py), so it cannot be
moved to another workshop or given a later expiry. The epoch is the workshop's
`screen_epoch` at minting: `/beamer off` raises it in the database, which refuses every earlier
link on every replica. The token in the URL is the moderator's: whoever holds it may also
reveal and hide the results.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

SCREEN_PATH = "/screen/"  # the page's URL is the web root + SCREEN_PATH + token
LIFETIME_SECONDS = 24 * 3600  # a workshop day; /beamer again gives a fresh link
_PURPOSE = b"dteam presenter screen v1\x00"
_MAX_TOKEN = 160  # ids and a 43-character signature fit easily; longer is not ours


class TokenRefused(ValueError):
    """The token is malformed, forged, expired or revoked (the page says no more than that)."""


@dataclass(frozen=True)
class ScreenClaim:
    """What a valid token says: which workshop, at which revocation epoch, until when."""

    workshop_id: int
    epoch: int
    expires: int  # Unix seconds


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, _PURPOSE + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint(
    key: bytes,
    *,
    workshop_id: int,
    epoch: int,
    now: float | None = None,
    lifetime: int = LIFETIME_SECONDS,
) -> str:
    """Returns a token for the workshop's presenter page, valid for `lifetime` seconds."""
    if not key:
        raise ValueError("no key to sign presenter links with")
    expires = int(time.time() if now is None else now) + lifetime
    body = f"{workshop_id}.{epoch}.{expires}"
    return f"{body}.{_sign(key, body)}"


def verify(key: bytes, token: str, *, now: float | None = None) -> ScreenClaim:
    """Returns the token's claim if signed with key and unexpired; raises TokenRefused.

    The epoch is checked against the database by the caller (it may have changed since).
    """
    if not key or len(token) > _MAX_TOKEN or not token.isascii():
        raise TokenRefused("malformed")
    body, _, signature = token.rpartition(".")
    if not hmac.compare_digest(signature.encode(), _sign(key, body).encode()):
        raise TokenRefused("bad signature")
    fields = body.split(".")
    if len(fields) != 3 or not all(f.isdecimal() for f in fields):
        raise TokenRefused("malformed")
    workshop_id, epoch, expires = (int(f) for f in fields)
    if (time.time() if now is None else now) >= expires:
        raise TokenRefused("expired")
    return ScreenClaim(workshop_id, epoch, expires)

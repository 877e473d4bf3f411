"""Presenter links: only an unaltered, unexpired token signed with the screen key is taken."""

from __future__ import annotations

import pytest

from bot.settings import load_settings
from handlers.core.screen_token import (
    LIFETIME_SECONDS,
    ScreenClaim,
    TokenRefused,
    mint,
    verify,
)

KEY = load_settings(bot_token="123456:TEST-token-for-the-sandbox").screen_key
NOW = 1_800_000_000.0


def test_a_fresh_token_names_its_session_epoch_and_expiry() -> None:
    token = mint(KEY, workshop_id=7, epoch=2, now=NOW)
    assert verify(KEY, token, now=NOW + 60) == ScreenClaim(7, 2, int(NOW) + LIFETIME_SECONDS)


def test_an_expired_token_is_refused() -> None:
    token = mint(KEY, workshop_id=7, epoch=0, now=NOW, lifetime=60)
    verify(KEY, token, now=NOW + 59)
    with pytest.raises(TokenRefused, match="expired"):
        verify(KEY, token, now=NOW + 60)


@pytest.mark.parametrize(
    ("field", "value"),
    [(0, "8"), (1, "3"), (2, str(int(NOW) + 10 * LIFETIME_SECONDS))],
    ids=["other session", "older epoch made current", "later expiry"],
)
def test_a_changed_field_breaks_the_signature(field: int, value: str) -> None:
    parts = mint(KEY, workshop_id=7, epoch=2, now=NOW).split(".")
    parts[field] = value
    with pytest.raises(TokenRefused, match="signature"):
        verify(KEY, ".".join(parts), now=NOW)


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = load_settings(bot_token="654321:another-bots-token").screen_key
    with pytest.raises(TokenRefused):
        verify(KEY, mint(other, workshop_id=7, epoch=0, now=NOW), now=NOW)


def test_the_screen_key_is_none_of_the_other_keys() -> None:
    settings = load_settings(bot_token="123456:TEST-token-for-the-sandbox")
    assert settings.screen_key != settings.pseudonym_key
    assert b"TEST-token" not in settings.screen_key


@pytest.mark.parametrize(
    "token",
    ["", ".", "7.2.99", "a.b.c.d", "7.2.99." + "A" * 43, "é" * 50, "7." * 200],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(TokenRefused):
        verify(KEY, token, now=NOW)


def test_minting_without_a_key_fails_loudly() -> None:
    with pytest.raises(ValueError, match="no key"):
        mint(b"", workshop_id=1, epoch=0)

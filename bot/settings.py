"""Settings from the environment (prefix DTEAM_) and an optional .env file."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DB = "sqlite+aiosqlite:///dteam.sqlite"


class Settings(BaseSettings):
    """All configuration of the bot; see README for the table."""

    model_config = SettingsConfigDict(
        env_prefix="DTEAM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DB
    moderators: Annotated[frozenset[int], NoDecode] = frozenset()
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    channel_id: int | None = None
    # Groups whose /summary and automatic close may post to the channel (besides moderators'
    # commands): any group's admin could otherwise post into the operator's channel.
    channel_groups: Annotated[frozenset[int], NoDecode] = frozenset()
    privacy_threshold: int = Field(default=3, ge=1, le=1000)
    retention_days: int = Field(default=30, ge=1, le=3650)
    retention_sweep_minutes: int = Field(default=60, ge=1, le=1440)
    # Who is responsible for the data (name and contact), named in the privacy notice.
    controller: str = Field(default="", max_length=500)
    live_interval: float = Field(default=5.0, ge=0.2, le=600)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # Keys the per-workshop pseudonyms in exports; default: derived from the bot token.
    pseudonym_secret: SecretStr | None = Field(default=None, min_length=16)
    webhook_path: str | None = None  # default: the path of webhook_url
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (tests)
    concurrency: int = Field(default=16, ge=1, le=256)
    max_retries: int = Field(default=5, ge=0, le=20)
    # Client-side pacing to Telegram's limits (30 msg/s overall, 20/min per group). Off only for
    # benchmarks that measure processing capacity; 429s are retried either way.
    throttle: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The public HTTPS root of the bot's web server (the Mini App's home); None: chat flow only.
    public_url: str | None = None
    # How long a Mini App's signed launch data (initData) stays valid, in seconds.
    webapp_max_age: int = Field(default=86400, ge=60, le=7 * 86400)

    @field_validator("moderators", "channel_groups", mode="before")
    @classmethod
    def _parse_ids(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                example = (
                    "-1001234567890,-4001" if info.field_name == "channel_groups" else "123,456"
                )
                kind = (
                    "group chat ids"
                    if info.field_name == "channel_groups"
                    else "Telegram user ids"
                )
                raise ValueError(f"must be {kind} separated by commas, e.g. {example}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Berlin") from None
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        token = value.get_secret_value()
        head, _, tail = token.partition(":")
        if not head.isdigit() or len(tail) < 5 or token.startswith("your"):
            raise ValueError("does not look like a BotFather token (123456:ABC-...)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not (1 <= len(secret) <= 256) or any(
            not (c.isascii() and (c.isalnum() or c in "_-")) for c in secret
        ):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            # Telegram opens only https:// Mini Apps; plain http is for the local stand-in.
            raise ValueError("must be an https:// URL (http:// only for 127.0.0.1 or localhost)")
        if not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be a root URL such as https://bot.example.org")
        return value.strip().rstrip("/")

    @property
    def pseudonym_key(self) -> bytes:
        """Returns the key of the exports' per-workshop pseudonyms.

        DTEAM_PSEUDONYM_SECRET if set, else derived from the token (one-way, so the key tells
        nothing about the token). A new token then changes the pseudonyms of later exports.
        """
        if self.pseudonym_secret is not None:
            return self.pseudonym_secret.get_secret_value().encode()
        token = self.bot_token.get_secret_value() if self.bot_token is not None else ""
        return hmac.new(token.encode(), b"dteam export pseudonyms", hashlib.sha256).digest()

    @property
    def screen_key(self) -> bytes:
        """Returns the key that signs presenter page links: one-way from the token, own label."""
        token = self.bot_token.get_secret_value() if self.bot_token is not None else ""
        return hmac.new(token.encode(), b"dteam presenter screen links", hashlib.sha256).digest()

    @property
    def zone(self) -> ZoneInfo:
        """Returns the configured time zone."""
        return ZoneInfo(self.timezone)


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line for the console."""


def load_settings(env_file: Path | None = None, **overrides: object) -> Settings:
    """Reads the settings; raises SettingsError with one readable line per problem."""
    try:
        if env_file is not None:
            return Settings(_env_file=env_file, **overrides)  # type: ignore[arg-type]
        return Settings.model_validate(overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "DTEAM_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(lines)) from None

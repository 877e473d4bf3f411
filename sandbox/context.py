"""What a Bot API method handler gets: the world, its bot, limits and settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.limits import Faults, RateLimiter
from sandbox.models import StoredMessage
from sandbox.params import Params
from sandbox.state import BotState, World


@dataclass
class Settings:
    """Tunable timings (tests shorten them) and the stand-in's one deliberate leniency."""

    callback_answer_window: float = 15.0
    webhook_backoff: float = 1.0
    webhook_backoff_max: float = 60.0
    webhook_timeout: float = 60.0
    # Telegram opens only https:// Mini Apps; tests and the offline demo serve them over
    # http://127.0.0.1, which this lets web_app buttons and the main Mini App point to.
    allow_http_webapps: bool = False


@dataclass
class Services:
    """Server-wide services shared by all method calls."""

    world: World
    limiter: RateLimiter
    faults: Faults
    settings: Settings
    stats: Counter[str]
    webhook_changed: Callable[[BotState], None]


@dataclass
class Ctx:
    """One Bot API call in progress."""

    services: Services
    bot: BotState
    chat_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def world(self) -> World:
        """The simulated world."""
        return self.services.world

    def touch(self, message: StoredMessage) -> None:
        """Mark ``message`` as changed and wake everyone waiting for the outbox."""
        message.seq = self.world.notifier.bump(message.chat_id)


Handler = Callable[[Ctx, Params], Awaitable[Any]]

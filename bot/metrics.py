"""Counters for GET /metrics (Prometheus text format) and the rate limiter that feeds one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from handlers.outcome import Outcome
from storage.database import Database
from storage.health import count_finished_participants

log = logging.getLogger(__name__)

METRICS_KEY = "metrics"  # where build_application keeps the Metrics in bot_data


@dataclass
class Metrics:
    """Process-wide counters; each replica reports its own, Prometheus sums them."""

    updates_processed: int = 0
    update_errors: int = 0
    updates_redelivery_requested: int = 0
    duplicates_skipped: int = 0
    send_retries: int = 0
    webhook_rejected: int = 0
    webhook_malformed: int = 0

    def observe(self, outcome: Outcome) -> None:
        """Counts one processed update by what became of it."""
        self.updates_processed += 1
        if outcome.error is not None:
            self.update_errors += 1
            if outcome.retry and outcome.redelivered:
                self.updates_redelivery_requested += 1
        if outcome.duplicate:
            self.duplicates_skipped += 1

    async def render(self, db: Database) -> str:
        """Returns all metrics in the Prometheus text exposition format."""
        finished: int | None = None
        try:
            async with db.read() as session:
                finished = await count_finished_participants(session)
        except Exception:  # metrics must answer even while the database does not
            log.warning("could not count finished participants", exc_info=True)
        rows = [
            ("updates_processed", "counter", "Updates handed to the handlers."),
            ("update_errors", "counter", "Updates whose handler failed."),
            (
                "updates_redelivery_requested",
                "counter",
                "Webhook updates answered 500 so that Telegram delivers them again.",
            ),
            (
                "duplicates_skipped",
                "counter",
                "Re-delivered updates whose writes were already committed.",
            ),
            ("send_retries", "counter", "Bot API calls refused with 429 (retried)."),
            ("webhook_rejected", "counter", "Webhook requests with a wrong secret."),
            ("webhook_malformed", "counter", "Webhook requests that were not an update."),
        ]
        lines: list[str] = []
        for name, kind, help_text in rows:
            lines += _metric(f"dteam_{name}_total", kind, help_text, getattr(self, name))
        if finished is not None:
            lines += _metric(
                "dteam_participants_finished",
                "gauge",
                "Participants with a finished questionnaire (from the database).",
                finished,
            )
        return "\n".join(lines) + "\n"


def _metric(name: str, kind: str, help_text: str, value: int) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]


Callback = Callable[..., Coroutine[Any, Any, Any]]


_MESSAGE_METHODS = ("send", "edit", "copy", "forward")
# Telegram allows about 1 message/s per chat with bursts of about 3; a token of slack each.
_CHAT_BURST, _CHAT_PERIOD = 2, 2.5
_CHATS_KEPT = 10_000  # above this, chats whose bucket is empty again are forgotten


def _private_chat(value: object) -> int | None:
    """Returns the id of a private chat (positive), also when PTB passes it as text."""
    try:
        chat_id = int(value)  # type: ignore[call-overload]  # multipart requests carry str
    except (TypeError, ValueError):
        return None
    return chat_id if chat_id > 0 else None


class CountingRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter that also paces each private chat and counts every 429 it sees.

    PTB paces only the whole bot and groups. A participant tapping faster than Telegram's
    ~1 message/s per chat would draw a 429, and PTB then pauses *every* request; waiting a
    moment in that one chat instead costs nobody else anything.
    """

    def __init__(self, metrics: Metrics, *, pace_chats: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics
        self._pace_chats = pace_chats
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) > _CHATS_KEPT:  # forget idle chats: their bucket is empty
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(_CHAT_BURST)
                }
            limiter = self._chats[chat_id] = AsyncLimiter(_CHAT_BURST, _CHAT_PERIOD)
        return limiter

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Runs the request through the limiter, counting each RetryAfter on the way."""

        async def counted(*a: Any, **kw: Any) -> Any:
            try:
                return await callback(*a, **kw)
            except RetryAfter:
                self.metrics.send_retries += 1
                raise

        chat_id = _private_chat(data.get("chat_id"))
        if (
            self._pace_chats
            and chat_id is not None
            and endpoint.lower().startswith(_MESSAGE_METHODS)
        ):
            async with self._chat_limiter(chat_id):
                pass  # waits until this chat may get another message
        return await super().process_request(
            counted, args, kwargs, endpoint, data, rate_limit_args
        )

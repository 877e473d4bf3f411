"""Counters for GET /metrics (Prometheus text format) and the rate limiter that feeds one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter

from bot.pacing import MESSAGE_METHODS, Callback, PacedRateLimiter
from handlers.core.outcome import UpdateOutcome
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
    updates_dropped: int = 0
    # Calls Telegram counts against its flood limits (sends and edits, retries included).
    private_messages: int = 0
    group_messages: int = 0
    # Private chats messaged since start: one int per participant, for the budget per person.
    private_chats: set[int] = field(default_factory=set)

    def message(self, chat: object) -> None:
        """Counts one rate-limited call to chat (a private chat has a positive id)."""
        if isinstance(chat, str) and chat.lstrip("-").isdigit():
            chat = int(chat)  # multipart requests carry the id as text
        if isinstance(chat, int) and chat > 0:
            self.private_messages += 1
            self.private_chats.add(chat)
        elif chat is not None:
            self.group_messages += 1

    def dropped(self, _update: object) -> None:
        """Counts one update dropped because its sender's (or group's) queue was full."""
        self.updates_dropped += 1

    def observe(self, outcome: UpdateOutcome) -> None:
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
            (
                "updates_dropped",
                "counter",
                "Updates dropped because their sender's or group's queue was full (a flood).",
            ),
        ]
        lines: list[str] = []
        for name, kind, help_text in rows:
            lines += _metric(f"dteam_{name}_total", kind, help_text, getattr(self, name))
        lines += _metric(
            "dteam_private_messages_total",
            "counter",
            "Messages sent or edited in private chats (each counts against Telegram's limits).",
            self.private_messages,
        )
        lines += _metric(
            "dteam_group_messages_total",
            "counter",
            "Messages sent or edited in groups and channels.",
            self.group_messages,
        )
        lines += _metric(
            "dteam_private_chats_messaged",
            "gauge",
            "Private chats (participants) the bot messaged since it started.",
            len(self.private_chats),
        )
        per_person = self.private_messages / len(self.private_chats) if self.private_chats else 0
        lines += _metric(
            "dteam_private_messages_per_participant",
            "gauge",
            "Rate-limited calls per participant messaged: the budget each one costs.",
            round(per_person, 3),
        )
        if finished is not None:
            lines += _metric(
                "dteam_participants_finished",
                "gauge",
                "Participants with a finished questionnaire (from the database).",
                finished,
            )
        return "\n".join(lines) + "\n"


def _metric(name: str, kind: str, help_text: str, value: float) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]


class CountingRateLimiter(PacedRateLimiter):
    """The bot's rate limiter (bot/pacing.py), counting every 429 it sees in the metrics."""

    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

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

        message = endpoint.lower().startswith(MESSAGE_METHODS)

        async def counted(*a: Any, **kw: Any) -> Any:
            if message:  # every attempt: a retry after a 429 counts at Telegram too
                self.metrics.message(data.get("chat_id"))
            try:
                return await callback(*a, **kw)
            except RetryAfter:
                self.metrics.send_retries += 1
                raise

        return await super().process_request(
            counted, args, kwargs, endpoint, data, rate_limit_args
        )

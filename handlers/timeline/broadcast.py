"""Sends one timed message to many participants: paced, at most once per recipient."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError

from handlers.core.context import DTeamContext
from handlers.core.sending import send
from storage.audience import Recipient
from storage.schedule import heartbeat, reserve

log = logging.getLogger(__name__)


Render = Callable[[Recipient], tuple[str, InlineKeyboardMarkup | None]]
OnReserve = Callable[[AsyncSession, Sequence[Recipient]], Awaitable[None]]


class Pacer:
    """Spaces out starts to at most `rate` per second (monotonic clock, no bursts)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = time.monotonic()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Waits for the next free slot."""
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
            self._next = max(now, self._next) + self.interval


@dataclass
class BroadcastOutcome:
    """How a broadcast went."""

    sent: int = 0
    unreachable: int = 0
    already: int = 0
    lost_claim: bool = False

    def detail(self) -> str:
        """Returns a one-line summary for the row's detail and the log."""
        text = f"sent {self.sent}, unreachable {self.unreachable}, already had it {self.already}"
        return text + (", claim lost" if self.lost_claim else "")


async def broadcast(
    ctx: DTeamContext,
    *,
    row_id: int,
    me: str,
    now: Callable[[], datetime],
    recipients: Sequence[Recipient],
    render: Render,
    on_reserve: OnReserve | None = None,
) -> BroadcastOutcome:
    """Sends to each recipient whose delivery row this call inserted; a rerun skips the rest."""
    services = ctx.services
    rate = services.broadcast_rate
    pacer, outcome = Pacer(rate), BroadcastOutcome()
    batch_size = max(1, int(rate))
    for start in range(0, len(recipients), batch_size):
        batch = recipients[start : start + batch_size]
        # Reserve before sending, committed: a crash loses at most this batch, never doubles.
        async with services.db.write() as session:
            if not await heartbeat(session, row_id=row_id, me=me, now=now()):
                outcome.lost_claim = True
                log.warning("scheduled message %s: claim lost; another process took over", row_id)
                return outcome
            fresh = await reserve(
                session,
                row_id=row_id,
                participant_ids=[r.participant_id for r in batch],
                now=now(),
            )
            mine = [r for r in batch if r.participant_id in fresh]
            if on_reserve is not None and mine:
                await on_reserve(session, mine)
        outcome.already += len(batch) - len(mine)
        results = await asyncio.gather(*(_paced_send(ctx, pacer, r, render) for r in mine))
        outcome.sent += sum(results)
        outcome.unreachable += len(results) - sum(results)
    return outcome


async def _paced_send(
    ctx: DTeamContext, pacer: Pacer, recipient: Recipient, render: Render
) -> bool:
    await pacer.wait()
    text, markup = render(recipient)
    try:
        # send() records a 403 (blocked) so that the participant is not messaged again.
        return await send(ctx, recipient.telegram_id, text, markup) is not None
    except TelegramError as exc:
        log.warning("timed message to %s failed: %s", recipient.telegram_id, exc)
        return False

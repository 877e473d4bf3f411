"""The retention sweep: deletes personal data past its date, again at every run until it is gone.

A sweep over the data, not a one-shot job per workshop: a workshop never closed, a purge that
failed, a run outside any workshop and a process that was down at the due time are all found
the next time, because each step looks at what the database still holds. Every step is
idempotent and runs in its own transaction, so one failure does not stop the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.core.context import DTeamContext, Services
from handlers.timeline.timed import clock, config_of
from handlers.timeline.timed_actions import purge_one
from storage.models import Workshop
from storage.retention import (
    forget_idle_participants,
    forget_processed_updates,
    purge_loose_runs,
    workshops_holding_data,
)
from storage.workshops import CLOSED

log = logging.getLogger(__name__)

# Telegram re-delivers an update for at most 24 hours, and after a week without updates it may
# start update ids afresh: a few days of de-duplication rows cover the first and avoid the
# second (an old row swallowing a new update that happens to get its id).
PROCESSED_KEEP = timedelta(days=3)


@dataclass
class Swept:
    """What one sweep deleted, and how many steps failed (they are tried again next time)."""

    workshops: int = 0
    runs: int = 0
    loose_runs: int = 0
    participants: int = 0
    updates: int = 0
    failed: int = 0

    def detail(self) -> str:
        """One line for the log."""
        return (
            f"{self.workshops} sessions ({self.runs} runs), {self.loose_runs} runs outside a "
            f"session, {self.participants} idle participants, {self.updates} update ids; "
            f"{self.failed} failed"
        )


def purge_due(services: Services, workshop: Workshop, last_activity: datetime) -> datetime:
    """Returns when a workshop's personal data goes: after its close, or after it fell idle."""
    closed = workshop.status == CLOSED and workshop.closed_at is not None
    ended = workshop.closed_at if closed and workshop.closed_at else last_activity
    # Config caps a workshop's own retention= at DTEAM_RETENTION_DAYS.
    return ended + config_of(services, workshop.settings).retention


async def job_retention(ctx: DTeamContext) -> None:
    """Deletes whatever personal data is past its date; the next run retries what failed."""
    swept = await sweep_retention(ctx.services)
    log.info("retention sweep: %s", swept.detail())


async def sweep_retention(services: Services) -> Swept:
    """Runs every retention step once; returns what it deleted."""
    now = clock(services)()
    cap = timedelta(days=services.retention_days)
    swept = Swept()
    async with services.db.read() as session:
        held = await workshops_holding_data(session)
    for item in held:
        if now < purge_due(services, item.workshop, item.last_activity):
            continue
        try:
            swept.runs += await purge_one(services, item.workshop, now)
            swept.workshops += 1
        except Exception:  # the data stays and the next sweep tries again
            swept.failed += 1
            log.exception("retention: purging workshop %s failed", item.workshop.id)
    steps = (
        ("loose_runs", purge_loose_runs, {"idle_before": now - cap}),
        ("participants", forget_idle_participants, {"idle_before": now - cap}),
        ("updates", forget_processed_updates, {"before": now - PROCESSED_KEEP}),
    )
    for name, step, bound in steps:
        try:
            async with services.db.write() as session:
                setattr(swept, name, await step(session, **bound))
        except Exception:
            swept.failed += 1
            log.exception("retention: step %s failed", name)
    return swept

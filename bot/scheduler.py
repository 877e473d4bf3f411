"""Wires the timed messages into the JobQueue: pending rows at start-up, and a periodic sweep."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import Application

from bot.settings import Settings
from handlers.core.context import SERVICES_KEY, Services
from handlers.timeline.retention import job_retention
from handlers.timeline.timed import job_sweep, schedule_jobs
from storage.schedule import pending_rows

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30.0  # how often missed rows are looked for (a row's own job is the fast path)
SWEEP_JOB = "scheduled-sweep"
FIRST_SWEEP_SECONDS = 0.5  # after start-up: catches up whatever fell due while the bot was down
RETENTION_JOB = "retention-sweep"
# The first retention sweep waits a little after start-up (not the whole interval, so that a
# bot restarted more often than that still deletes what is due).
FIRST_RETENTION_SECONDS = 600.0


async def start_scheduler(
    app: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    *,
    sweep_seconds: float | None = None,
) -> int:
    """Schedules every pending row from the database and starts the sweep; returns the rows."""
    services: Services = app.bot_data[SERVICES_KEY]
    services.retention_days = settings.retention_days
    if app.job_queue is None:
        log.warning("no JobQueue (python-telegram-bot[job-queue] missing): no timed messages")
        return 0
    async with services.db.read() as session:
        rows = await pending_rows(session)
    schedule_jobs(app.job_queue, rows)
    interval = sweep_seconds if sweep_seconds is not None else SWEEP_SECONDS
    # The first sweep runs right away: it catches up whatever fell due while the bot was down.
    app.job_queue.run_repeating(
        job_sweep, interval=interval, first=FIRST_SWEEP_SECONDS, name=SWEEP_JOB
    )
    every = settings.retention_sweep_minutes * 60.0
    app.job_queue.run_repeating(
        job_retention,
        interval=every,
        first=min(every, FIRST_RETENTION_SECONDS),
        name=RETENTION_JOB,
    )
    log.info("scheduler: %d pending timed messages, sweep every %.0f s", len(rows), interval)
    return len(rows)

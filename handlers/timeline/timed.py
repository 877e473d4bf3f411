"""Runs scheduled messages: JobQueue jobs per row, a sweep for missed ones, atomic claims."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import JobQueue

from handlers.core.context import DTeamContext, Services
from handlers.timeline import timed_actions
from handlers.timeline.plan import Config, Kind, planned, retention_plan
from storage.audience import closed_without_purge
from storage.models import ScheduledMessage
from storage.schedule import (
    FAILED,
    PENDING,
    SKIPPED,
    add_missing,
    claim,
    due_row_ids,
    finish,
    get_row,
    release,
)
from storage.types import utcnow
from storage.workshops import get_workshop

log = logging.getLogger(__name__)

JOB_PREFIX = "scheduled:"
# A claim older than this belongs to a process that died; a live one refreshes it per batch.
CLAIM_STALE = timedelta(minutes=5)


def clock(services: Services) -> Callable[[], datetime]:
    """Returns the now() source: Services.clock if set (benchmarks), else the real UTC."""
    return services.clock or utcnow


def config_of(services: Services, settings: dict[str, Any]) -> Config:
    """Returns the timeline configuration of a workshop (its overrides on the defaults)."""
    return Config.from_settings(settings, services.retention_days)


def schedule_jobs(job_queue: JobQueue[Any] | None, rows: Sequence[ScheduledMessage]) -> None:
    """(Re)schedules one JobQueue job per pending row at its due time; the sweep is the net."""
    if job_queue is None:
        return
    # The JobQueue runs on the real clock: a row already due is the sweep's (no "missed" noise).
    real_now = datetime.now(UTC)
    for row in rows:
        name = f"{JOB_PREFIX}{row.id}"
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        if row.status == PENDING and row.due_at > real_now:
            job_queue.run_once(job_due, when=row.due_at, data=row.id, name=name)


def unschedule_jobs(job_queue: JobQueue[Any] | None, row_ids: Sequence[int]) -> None:
    """Removes the jobs of deleted rows."""
    if job_queue is None:
        return
    for row_id in row_ids:
        for job in job_queue.get_jobs_by_name(f"{JOB_PREFIX}{row_id}"):
            job.schedule_removal()


async def job_due(ctx: DTeamContext) -> None:
    """Runs the scheduled message the job was made for (if no other process got it first)."""
    assert ctx.job is not None
    await run_row(ctx, int(ctx.job.data))  # type: ignore[call-overload]


async def job_sweep(ctx: DTeamContext) -> None:
    """Runs whatever is due and was missed (down, restarted, or claimed by a dead process)."""
    await sweep(ctx)


async def sweep(ctx: DTeamContext) -> int:
    """Adds retention for workshops closed by hand, then runs every due row; returns how many."""
    services = ctx.services
    now = clock(services)()
    async with services.db.write() as session:
        added: list[ScheduledMessage] = []
        for workshop in await closed_without_purge(session):
            assert workshop.id is not None
            assert workshop.closed_at is not None
            config = config_of(services, workshop.settings)
            items = [(p.kind.value, p.due_at) for p in retention_plan(workshop.closed_at, config)]
            added += await add_missing(session, workshop_id=workshop.id, items=items)
    schedule_jobs(ctx.application.job_queue, added)
    async with services.db.read() as session:
        ids = await due_row_ids(session, now=now, stale_before=now - CLAIM_STALE)
    done = 0
    for row_id in ids:
        done += await run_row(ctx, row_id)
    return done


async def run_row(ctx: DTeamContext, row_id: int) -> bool:
    """Claims one due row and runs it; False when it was not due or another process won."""
    services = ctx.services
    now_fn, me = clock(services), services.instance_id
    now = now_fn()
    async with services.db.write() as session:
        won = await claim(session, row_id=row_id, me=me, now=now, stale_before=now - CLAIM_STALE)
    if not won:
        return False
    async with services.db.read() as session:
        row = await get_row(session, row_id=row_id)
        workshop = await get_workshop(session, workshop_id=row.workshop_id) if row else None
    if row is None or workshop is None:
        return False
    kind = Kind(row.kind)
    config = config_of(services, workshop.settings)
    plan = planned(kind, workshop.starts_at, workshop.ends_at, config)
    if plan is not None and plan.deadline is not None and now > plan.deadline:
        detail = f"too late: due {row.due_at:%Y-%m-%d %H:%M}Z, deadline passed at {now:%H:%M}Z"
        log.info("skipping %s of workshop %s: %s", kind, workshop.id, detail)
        await _finish(services, row_id, me, SKIPPED, detail, now_fn)
        return True
    try:
        step = await timed_actions.run(
            ctx, kind=kind, row=row, workshop=workshop, config=config, me=me, now=now_fn
        )
    except Exception as exc:  # one broken row must not stop the sweep
        log.exception("scheduled %s of workshop %s failed", kind, workshop.id)
        await _finish(services, row_id, me, FAILED, f"{type(exc).__name__}: {exc}", now_fn)
        return True
    if step.again_at is not None:
        async with services.db.write() as session:
            await release(session, row_id=row_id, me=me, due_at=step.again_at)
            again = await get_row(session, row_id=row_id)
        if again is not None:
            schedule_jobs(ctx.application.job_queue, [again])
    else:
        await _finish(services, row_id, me, step.status, step.detail, now_fn)
    log.info("scheduled %s of workshop %s: %s", kind, workshop.id, step.detail)
    return True


async def _finish(
    services: Services,
    row_id: int,
    me: str,
    status: str,
    detail: str,
    now_fn: Callable[[], datetime],
) -> None:
    async with services.db.write() as session:
        await finish(session, row_id=row_id, me=me, status=status, detail=detail, now=now_fn())

"""Who a timed message goes to, session progress, and the retention purge of raw answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, distinct, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Participant, Result, Run, ScheduledMessage, Workshop
from storage.runs import ABANDONED, FINISHED, IN_PROGRESS


@dataclass(frozen=True)
class Recipient:
    """A participant a timed message may go to."""

    participant_id: int
    telegram_id: int
    language: str | None
    run_id: int | None = None


@dataclass(frozen=True)
class FinishedMember:
    """The stored result of one finished participant of a workshop."""

    pseudonym: str
    main_type: str
    profile: dict[str, float]
    answers: dict[str, str] = field(default_factory=dict)


def _reachable() -> Any:
    return (Participant.reminders.is_(True)) & (Participant.blocked_at.is_(None))  # type: ignore[attr-defined,union-attr]


async def joined_recipients(session: AsyncSession, *, workshop_id: int) -> list[Recipient]:
    """Returns joined participants who want reminders and did not block the bot."""
    res = await session.execute(
        select(Participant.id, Participant.telegram_id, Participant.language)
        .where(
            Participant.id.in_(  # type: ignore[union-attr]
                select(Run.participant_id).where(
                    Run.workshop_id == workshop_id,  # type: ignore[arg-type]
                    Run.status != ABANDONED,  # type: ignore[arg-type]
                )
            ),
            _reachable(),
        )
        .order_by(Participant.id)  # type: ignore[arg-type]
    )
    return [Recipient(int(p), int(t), lang) for p, t, lang in res.all()]


async def idle_recipients(
    session: AsyncSession, *, workshop_id: int, idle_before: datetime
) -> list[Recipient]:
    """Returns participants whose unfinished run has been idle since before idle_before."""
    res = await session.execute(
        select(Participant.id, Participant.telegram_id, Participant.language, Run.id)
        .join(Run, Run.participant_id == Participant.id)  # type: ignore[arg-type]
        .where(
            Run.workshop_id == workshop_id,  # type: ignore[arg-type]
            Run.status == IN_PROGRESS,  # type: ignore[arg-type]
            Run.updated_at < idle_before,  # type: ignore[arg-type,operator]
            Run.nudged_at.is_(None),  # type: ignore[union-attr]
            _reachable(),
        )
        .order_by(Run.id)  # type: ignore[arg-type]
    )
    return [Recipient(int(p), int(t), lang, int(r)) for p, t, lang, r in res.all()]


async def mark_nudged(session: AsyncSession, *, run_ids: Sequence[int], now: datetime) -> None:
    """Records that these runs got their one nudge."""
    if run_ids:
        await session.execute(
            update(Run).where(Run.id.in_(run_ids)).values(nudged_at=now)  # type: ignore[union-attr]
        )


async def progress(session: AsyncSession, *, workshop_id: int) -> tuple[int, int]:
    """Returns (joined, finished) participants of a workshop."""
    joined = select(func.count(distinct(Run.participant_id))).where(
        Run.workshop_id == workshop_id,  # type: ignore[arg-type]
        Run.status != ABANDONED,  # type: ignore[arg-type]
    )
    finished = select(func.count(distinct(Run.participant_id))).where(
        Run.workshop_id == workshop_id,  # type: ignore[arg-type]
        Run.status == FINISHED,  # type: ignore[arg-type]
    )
    return int((await session.execute(joined)).scalar_one()), int(
        (await session.execute(finished)).scalar_one()
    )


async def finished_members(session: AsyncSession, *, workshop_id: int) -> list[FinishedMember]:
    """Returns the latest finished result per participant of a workshop, with its answers."""
    res = await session.execute(
        select(Run.id, Run.participant_id, Participant.pseudonym, Result)
        .join(Result, Result.run_id == Run.id)  # type: ignore[arg-type]
        .join(Participant, Participant.id == Run.participant_id)  # type: ignore[arg-type]
        .where(Run.workshop_id == workshop_id, Run.status == FINISHED)  # type: ignore[arg-type]
        .order_by(Run.id)  # type: ignore[arg-type]
    )
    latest: dict[int, tuple[int, str, Result]] = {}
    for run_id, participant_id, pseudonym, result in res.all():
        latest[int(participant_id)] = (int(run_id), str(pseudonym), result)
    run_ids = [run_id for run_id, _, _ in latest.values()]
    answers: dict[int, dict[str, str]] = {r: {} for r in run_ids}
    if run_ids:
        rows = await session.execute(
            select(Answer.run_id, Answer.item_id, Answer.option_id).where(
                Answer.run_id.in_(run_ids)  # type: ignore[attr-defined]
            )
        )
        for run_id, item_id, option_id in rows.all():
            answers[int(run_id)][str(item_id)] = str(option_id)
    return [
        FinishedMember(pseudonym, result.main_type, dict(result.profile), answers[run_id])
        for run_id, pseudonym, result in latest.values()
    ]


async def set_aggregate(
    session: AsyncSession, *, workshop_id: int, aggregate: dict[str, Any]
) -> None:
    """Stores the aggregated composition of a workshop (kept after the purge)."""
    await session.execute(
        update(Workshop).where(Workshop.id == workshop_id).values(aggregate=aggregate)  # type: ignore[arg-type]
    )


async def purge_raw(session: AsyncSession, *, workshop_id: int, now: datetime) -> int:
    """Deletes the workshop's runs with their answers and results; returns runs deleted."""
    runs = select(Run.id).where(Run.workshop_id == workshop_id)  # type: ignore[arg-type]
    await session.execute(delete(Answer).where(Answer.run_id.in_(runs)))  # type: ignore[attr-defined]
    await session.execute(delete(Result).where(Result.run_id.in_(runs)))  # type: ignore[attr-defined]
    res = await session.execute(delete(Run).where(Run.workshop_id == workshop_id))  # type: ignore[arg-type]
    await session.execute(
        update(Workshop).where(Workshop.id == workshop_id).values(purged_at=now)  # type: ignore[arg-type]
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def closed_without_purge(session: AsyncSession) -> list[Workshop]:
    """Returns closed, unpurged workshops that have no purge row yet (closed by hand)."""
    has_purge = select(ScheduledMessage.workshop_id).where(
        ScheduledMessage.kind == "purge"  # type: ignore[arg-type]
    )
    res = await session.execute(
        select(Workshop).where(
            Workshop.closed_at.is_not(None),  # type: ignore[union-attr]
            Workshop.purged_at.is_(None),  # type: ignore[union-attr]
            Workshop.id.not_in(has_purge),  # type: ignore[union-attr]
        )
    )
    return list(res.scalars())

"""Queries over a workshop's runs: counts, finished members, teams, export rows, reset."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.locks import lock_runs
from storage.models import Answer, Participant, Result, Run
from storage.runs import ABANDONED, FINISHED, IN_PROGRESS


def _pk(value: int | None) -> int:
    """Returns a primary key that a loaded row always has."""
    assert value is not None
    return value


@dataclass(frozen=True)
class WorkshopCounts:
    """How far the participants of a workshop are."""

    joined: int
    finished: int
    in_progress: int
    by_item: dict[str, int]
    stuck: int


@dataclass(frozen=True)
class FinishedMember:
    """A participant's latest finished run in a workshop, with what the group features need."""

    run_id: int
    participant_id: int
    pseudonym: str
    telegram_id: int
    first_name: str | None
    language: str
    share_name: bool
    blocked: bool
    main_type: str
    profile: dict[str, float]
    context: dict[str, str] = field(default_factory=dict)
    team: int | None = None
    mixed: bool = False


@dataclass(frozen=True)
class ExportRow:
    """One run of a workshop for the export: pseudonymous, no Telegram names or ids."""

    participant: str
    run_id: int
    status: str
    language: str
    started_at: datetime
    finished_at: datetime | None
    team: int | None
    main_type: str | None
    second_type: str | None
    mixed: bool | None
    affinities: dict[str, float]
    answers: dict[str, str]
    questionnaire_version: str = ""


async def workshop_counts(
    session: AsyncSession, *, workshop_id: int, stuck_before: datetime
) -> WorkshopCounts:
    """Counts joined, finished and in-progress participants; stuck = no move since stuck_before."""
    res = await session.execute(
        select(
            col(Run.participant_id), col(Run.status), col(Run.current_item), col(Run.updated_at)
        ).where(col(Run.workshop_id) == workshop_id)
    )
    joined: set[int] = set()
    finished: set[int] = set()
    by_item: Counter[str] = Counter()
    in_progress = stuck = 0
    for participant_id, status, item, updated_at in res.all():
        joined.add(participant_id)
        if status == FINISHED:
            finished.add(participant_id)
        elif status == IN_PROGRESS:
            in_progress += 1
            by_item[item or "?"] += 1
            stuck += updated_at < stuck_before
    return WorkshopCounts(len(joined), len(finished), in_progress, dict(by_item), stuck)


async def finished_members(
    session: AsyncSession, *, workshop_id: int, context_items: Sequence[str] = ()
) -> list[FinishedMember]:
    """Returns each participant's latest finished run in the workshop, in finish order.

    For /summary and for the aggregate kept at the close; `context_items` are the answers each
    member's `context` carries. A participant who finished again stands where their latest
    result finished: the order `typology.group.disclosed` counts in steps of the privacy
    threshold. Plain columns, no ORM objects: with 10,000 participants ORM rows (three objects
    each, with their JSON) made a /summary peak at about 270 MB (bench_memory).
    """
    res = await session.execute(
        select(
            col(Run.id),
            col(Run.participant_id),
            col(Run.language),
            col(Run.team),
            col(Participant.pseudonym),
            col(Participant.telegram_id),
            col(Participant.first_name),
            col(Participant.language),
            col(Participant.share_name),
            col(Participant.blocked_at),
            col(Result.main_type),
            col(Result.profile),
            col(Result.mixed),
        )
        .join(Result, col(Result.run_id) == col(Run.id))
        .join(Participant, col(Participant.id) == col(Run.participant_id))
        .where(col(Run.workshop_id) == workshop_id, col(Run.status) == FINISHED)
        .order_by(col(Run.finished_at), col(Run.id))
    )
    latest: dict[int, FinishedMember] = {}
    for (
        run_id,
        participant_id,
        run_language,
        team,
        pseudonym,
        telegram_id,
        first_name,
        language,
        share_name,
        blocked_at,
        main_type,
        profile,
        mixed,
    ) in res:
        latest.pop(participant_id, None)  # an earlier result gives up its place in the order
        latest[participant_id] = FinishedMember(
            run_id=_pk(run_id),
            participant_id=participant_id,
            pseudonym=pseudonym,
            telegram_id=telegram_id,
            first_name=first_name,
            language=language or run_language,
            share_name=share_name,
            blocked=blocked_at is not None,
            main_type=main_type,
            profile=profile,
            team=team,
            mixed=bool(mixed),
        )
    if context_items and latest:
        rows = await session.execute(
            select(col(Answer.run_id), col(Answer.item_id), col(Answer.option_id))
            .join(Run, col(Run.id) == col(Answer.run_id))
            .where(
                col(Run.workshop_id) == workshop_id,
                col(Run.status) == FINISHED,
                col(Answer.item_id).in_(list(context_items)),
            )
        )
        members = {m.run_id: m for m in latest.values()}
        for run_id, item_id, option_id in rows:
            if (member := members.get(run_id)) is not None:
                member.context[item_id] = option_id
    return list(latest.values())


async def assign_teams(session: AsyncSession, *, workshop_id: int, teams: dict[int, int]) -> None:
    """Stores run id -> team number; other runs of the workshop lose their team."""
    await lock_runs(session, col(Run.workshop_id) == workshop_id)  # in id order, as a reset
    await session.execute(update(Run).where(col(Run.workshop_id) == workshop_id).values(team=None))
    for team in sorted(set(teams.values())):
        ids = [run_id for run_id, t in teams.items() if t == team]
        await session.execute(
            update(Run)
            .where(col(Run.workshop_id) == workshop_id, col(Run.id).in_(ids))
            .values(team=team)
        )


async def export_rows(session: AsyncSession, *, workshop_id: int) -> Iterator[ExportRow]:
    """Yields every non-abandoned run of the workshop with answers and result, oldest first.

    One at a time, so that a large workshop's export never holds all of them as objects.
    """
    in_export = (col(Run.workshop_id) == workshop_id, col(Run.status) != ABANDONED)
    # Streamed in chunks, with the few distinct ids shared: 15 answers for each of 10,000 runs
    # fetched at once as rows of new strings cost tens of MB (bench_memory).
    found = await session.stream(
        select(col(Answer.run_id), col(Answer.item_id), col(Answer.option_id))
        .join(Run, col(Run.id) == col(Answer.run_id))
        .where(*in_export)
        .execution_options(yield_per=2000)
    )
    answers: dict[int, dict[str, str]] = {}
    shared: dict[str, str] = {}
    async for run_id, item_id, option_id in found:
        item, option = shared.setdefault(item_id, item_id), shared.setdefault(option_id, option_id)
        answers.setdefault(run_id, {})[item] = option
    res = await session.execute(
        select(
            col(Participant.pseudonym),
            col(Run.id),
            col(Run.status),
            col(Run.language),
            col(Run.started_at),
            col(Run.finished_at),
            col(Run.team),
            col(Result.main_type),
            col(Result.second_type),
            col(Result.mixed),
            col(Result.affinities),
            col(Run.questionnaire_version),
        )
        .join(Participant, col(Participant.id) == col(Run.participant_id))
        .outerjoin(Result, col(Result.run_id) == col(Run.id))
        .where(*in_export)
        .order_by(col(Run.id))
    )
    return (
        ExportRow(
            participant=pseudonym,
            run_id=_pk(run_id),
            status=status,
            language=language,
            started_at=started_at,
            finished_at=finished_at,
            team=team,
            main_type=main_type,
            second_type=second_type,
            mixed=mixed,
            affinities=affinities or {},
            answers=answers.pop(_pk(run_id), {}),
            questionnaire_version=version,
        )
        for (
            pseudonym,
            run_id,
            status,
            language,
            started_at,
            finished_at,
            team,
            main_type,
            second_type,
            mixed,
            affinities,
            version,
        ) in res
    )


async def delete_runs(session: AsyncSession, *where: ColumnElement[bool]) -> int:
    """Deletes the runs matching `where` with their answers and results; returns runs deleted.

    The runs first, in id order, and their answers and results with them (ON DELETE CASCADE):
    the order in which a tap, /delete_me and a new start lock them (run, then its answers).
    Deleting the answers first deadlocked on PostgreSQL with a /delete_me or a tap at the
    same moment, each holding what the other waited for.
    """
    await lock_runs(session, *where)
    res = await session.execute(delete(Run).where(*where))
    return int(getattr(res, "rowcount", 0) or 0)


async def reset_workshop(session: AsyncSession, *, workshop_id: int) -> int:
    """Deletes every run of the workshop with its answers and results; returns runs deleted."""
    return await delete_runs(session, col(Run.workshop_id) == workshop_id)


async def finished_workshop_ids(session: AsyncSession, *, participant_id: int) -> set[int]:
    """Returns the workshops in which the participant finished a run."""
    res = await session.execute(
        select(col(Run.workshop_id)).where(
            col(Run.participant_id) == participant_id,
            col(Run.status) == FINISHED,
            col(Run.workshop_id).is_not(None),
        )
    )
    return {wid for (wid,) in res.all() if wid is not None}

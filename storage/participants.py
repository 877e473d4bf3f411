"""Queries about participants: creation, settings, consent, blocking, deletion."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.locks import lock_participant, lock_runs
from storage.models import Participant, Run
from storage.types import storable, utcnow

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_pseudonym() -> str:
    """Returns a random pseudonymous id used in exports instead of Telegram ids."""
    return "p-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


async def get_participant(session: AsyncSession, *, telegram_id: int) -> Participant | None:
    """Returns the participant with this Telegram user id, if known."""
    res = await session.execute(
        select(Participant).where(col(Participant.telegram_id) == telegram_id)
    )
    return res.scalar_one_or_none()


async def get_or_create_participant(
    session: AsyncSession, *, telegram_id: int, first_name: str | None, language: str
) -> Participant:
    """Returns the participant, creating them on first contact; a returning user is unblocked."""
    name = storable(first_name or "", 64)
    found = await get_participant(session, telegram_id=telegram_id)
    if found is not None:
        if found.blocked_at is not None:
            found.blocked_at = None  # they wrote to us again, so they unblocked the bot
        if name and found.first_name != name:
            found.first_name = name
        return found
    participant = Participant(
        telegram_id=telegram_id,
        pseudonym=new_pseudonym(),
        first_name=name or None,
        language=language,
    )
    session.add(participant)
    await session.flush()
    return participant


async def set_consent(session: AsyncSession, *, participant: Participant) -> None:
    """Records that the participant agreed to the privacy notice."""
    if participant.consent_at is None:
        participant.consent_at = utcnow()
        session.add(participant)


async def set_language(session: AsyncSession, *, participant: Participant, language: str) -> None:
    """Stores the participant's language."""
    participant.language = language
    session.add(participant)


async def set_reminders(session: AsyncSession, *, participant: Participant, on: bool) -> None:
    """Turns reminders for the participant on or off."""
    participant.reminders = on
    session.add(participant)


async def set_share_name(session: AsyncSession, *, participant: Participant, on: bool) -> None:
    """Records whether the participant may be named to their breakout team."""
    participant.share_name = on
    session.add(participant)


async def mark_blocked(session: AsyncSession, *, telegram_id: int) -> None:
    """Records that the user blocked the bot, so nobody messages them again."""
    await session.execute(
        update(Participant)
        .where(col(Participant.telegram_id) == telegram_id, col(Participant.blocked_at).is_(None))
        .values(blocked_at=utcnow())
    )


async def delete_participant(session: AsyncSession, *, participant_id: int) -> int:
    """Deletes the participant with all their runs, answers and results; returns runs deleted."""
    await lock_participant(session, participant_id=participant_id)  # before the runs, as start_run
    mine = col(Run.participant_id) == participant_id
    await lock_runs(session, mine)  # then the runs in id order, as a reset or a purge
    runs = await session.execute(delete(Run).where(mine))
    await session.execute(delete(Participant).where(col(Participant.id) == participant_id))
    return int(getattr(runs, "rowcount", 0) or 0)


async def set_joined(
    session: AsyncSession, *, participant: Participant, workshop_id: int | None
) -> None:
    """Records the workshop this participant's results count for (None: on their own)."""
    if participant.joined_workshop_id != workshop_id:
        participant.joined_workshop_id = workshop_id
        participant.joined_at = utcnow()
        session.add(participant)

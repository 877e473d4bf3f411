"""SQLModel tables: participants, workshops, questionnaire runs, results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Participant(SQLModel, table=True):
    """A person who talks to the bot in private chat."""

    __tablename__ = "participant"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    pseudonym: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    first_name: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    consent_at: datetime | None = _utc()
    share_name: bool = Field(default=False)
    reminders: bool = Field(default=True)
    blocked_at: datetime | None = _utc()
    created_at: datetime = _created()
    # The workshop this person's results count for: set by its link or an explicit choice, kept
    # in the database so that a language switch, a bare /start or a restart cannot lose it.
    joined_workshop_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("workshop.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    joined_at: datetime | None = _utc()


class Workshop(SQLModel, table=True):
    """A workshop of one group (what /session opens): participants join it by its code."""

    __tablename__ = "workshop"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    title: str = Field(default="", max_length=200)
    status: str = Field(default="open", max_length=16)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = _created()
    closed_at: datetime | None = _utc()
    live_message_id: int | None = Field(default=None)
    live_text: str | None = Field(default=None)
    live_dirty: bool = Field(default=False)
    starts_at: datetime | None = _utc()
    ends_at: datetime | None = _utc()
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    aggregate: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    purged_at: datetime | None = _utc()
    # The presenter page: links carry screen_epoch, so raising it revokes every earlier link;
    # the composition shows on the shared screen only once the moderator revealed it.
    screen_epoch: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    screen_revealed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class Run(SQLModel, table=True):
    """One pass through the questionnaire by one participant."""

    __tablename__ = "run"
    __table_args__ = (Index("ix_run_participant_status", "participant_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(
        sa_column=Column(Integer, ForeignKey("participant.id", ondelete="CASCADE"), nullable=False)
    )
    workshop_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("workshop.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    questionnaire_version: str = Field(max_length=16)
    language: str = Field(default="de", max_length=8)
    status: str = Field(default="in_progress", max_length=16)
    current_item: str | None = Field(default=None, max_length=32)
    message_id: int | None = Field(default=None)
    team: int | None = Field(default=None)
    started_at: datetime = _created()
    updated_at: datetime = _created()
    finished_at: datetime | None = _utc()
    nudged_at: datetime | None = _utc()


class Answer(SQLModel, table=True):
    """One answer of a run; pressing again on the same question replaces it."""

    __tablename__ = "answer"

    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("run.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    item_id: str = Field(sa_column=Column(String(32), primary_key=True, nullable=False))
    option_id: str = Field(max_length=32)
    answered_at: datetime = _created()


class Result(SQLModel, table=True):
    """The classification of a finished run."""

    __tablename__ = "result"

    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("run.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    main_type: str = Field(max_length=32)
    second_type: str = Field(max_length=32)
    mixed: bool = Field(default=False)
    affinities: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    deciding: list[str] = Field(sa_column=Column(JSON, nullable=False))
    profile: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    model_version: str = Field(max_length=32)
    created_at: datetime = _created()


class ProcessedUpdate(SQLModel, table=True):
    """An update id whose writes are committed: a re-delivery writes nothing again."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = _created()


class ScheduledMessage(SQLModel, table=True):
    """A timed message of a workshop (reminder, announcement, auto-close, retention)."""

    __tablename__ = "scheduled_message"
    __table_args__ = (UniqueConstraint("workshop_id", "kind", name="uq_scheduled_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workshop_id: int = Field(
        sa_column=Column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=32)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    status: str = Field(default="pending", max_length=16)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = _utc()
    done_at: datetime | None = _utc()
    detail: str | None = Field(default=None, max_length=500)


class Delivery(SQLModel, table=True):
    """One recipient of a scheduled message: a resumed broadcast never messages them twice."""

    __tablename__ = "delivery"

    scheduled_message_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("scheduled_message.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    participant_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("participant.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        )
    )
    sent_at: datetime = _created()

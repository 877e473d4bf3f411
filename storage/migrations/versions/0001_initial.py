"""Initial schema: participants, workshops, runs, answers, results, updates, schedule.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates the first tables."""
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("telegram_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("pseudonym", sa.String(16), nullable=False, unique=True),
        sa.Column("first_name", sa.String(64)),
        sa.Column("language", sa.String(8)),
        sa.Column("consent_at", UTCDateTime()),
        sa.Column("share_name", sa.Boolean, nullable=False),
        sa.Column("reminders", sa.Boolean, nullable=False),
        sa.Column("blocked_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "workshop",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("live_message_id", sa.Integer),
        sa.Column("live_text", sa.String),
        sa.Column("live_dirty", sa.Boolean, nullable=False),
        sa.Column("starts_at", UTCDateTime()),
        sa.Column("ends_at", UTCDateTime()),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("aggregate", sa.JSON),
        sa.Column("purged_at", UTCDateTime()),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "participant_id",
            sa.Integer,
            sa.ForeignKey("participant.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workshop_id",
            sa.Integer,
            sa.ForeignKey("workshop.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("questionnaire_version", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("current_item", sa.String(32)),
        sa.Column("message_id", sa.Integer),
        sa.Column("team", sa.Integer),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("nudged_at", UTCDateTime()),
    )
    op.create_index("ix_run_participant_status", "run", ["participant_id", "status"])
    op.create_table(
        "answer",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("run.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("item_id", sa.String(32), primary_key=True),
        sa.Column("option_id", sa.String(32), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "result",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("run.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("main_type", sa.String(32), nullable=False),
        sa.Column("second_type", sa.String(32), nullable=False),
        sa.Column("mixed", sa.Boolean, nullable=False),
        sa.Column("affinities", sa.JSON, nullable=False),
        sa.Column("deciding", sa.JSON, nullable=False),
        sa.Column("profile", sa.JSON, nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "processed_update",
        sa.Column("update_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "scheduled_message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "workshop_id",
            sa.Integer,
            sa.ForeignKey("workshop.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", UTCDateTime()),
        sa.Column("done_at", UTCDateTime()),
        sa.Column("detail", sa.String(500)),
        sa.UniqueConstraint("workshop_id", "kind", name="uq_scheduled_kind"),
    )
    op.create_table(
        "delivery",
        sa.Column(
            "scheduled_message_id",
            sa.Integer,
            sa.ForeignKey("scheduled_message.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "participant_id",
            sa.Integer,
            sa.ForeignKey("participant.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drops everything."""
    for table in (
        "delivery",
        "scheduled_message",
        "processed_update",
        "result",
        "answer",
        "run",
        "workshop",
        "participant",
    ):
        op.drop_table(table)

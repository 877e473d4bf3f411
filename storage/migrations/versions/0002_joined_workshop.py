"""The workshop a participant's results count for, stored with the participant.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds participant.joined_workshop_id and joined_at."""
    with op.batch_alter_table("participant") as batch:
        batch.add_column(sa.Column("joined_workshop_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("joined_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_participant_joined_workshop",
            "workshop",
            ["joined_workshop_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_participant_joined_workshop_id", ["joined_workshop_id"])


def downgrade() -> None:
    """Drops the columns again."""
    with op.batch_alter_table("participant") as batch:
        batch.drop_index("ix_participant_joined_workshop_id")
        batch.drop_constraint("fk_participant_joined_workshop", type_="foreignkey")
        batch.drop_column("joined_at")
        batch.drop_column("joined_workshop_id")

"""The presenter page's state per session: link revocation counter and results revealed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Adds workshop.screen_epoch and workshop.screen_revealed (existing rows: 0, hidden)."""
    with op.batch_alter_table("workshop") as batch:
        batch.add_column(sa.Column("screen_epoch", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("screen_revealed", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drops the columns again."""
    with op.batch_alter_table("workshop") as batch:
        batch.drop_column("screen_revealed")
        batch.drop_column("screen_epoch")

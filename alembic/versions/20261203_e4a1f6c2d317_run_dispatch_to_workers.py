"""run dispatch to workers: when the scheduler handed a queued run to the task engine

Revision ID: e4a1f6c2d317
Revises: a4d8c6e2f713
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "e4a1f6c2d317"
down_revision: str | None = "a4d8c6e2f713"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_run") as batch:
        batch.add_column(
            sa.Column(
                "dispatched_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("monitor_run") as batch:
        batch.drop_column("dispatched_at")

"""registry webhook secret: the secret MLflow signs its model-registry webhooks with

Revision ID: a8d3b6f1c418
Revises: b5e9c2a7d818
Create Date: 2026-12-03 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.store.types

revision: str = "a8d3b6f1c418"
down_revision: str | None = "b5e9c2a7d818"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_webhook_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("updated_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("registry_webhook_secret")

"""kserve pending pairs: payload-logger halves waiting for their other half, and expiry counts

Revision ID: b5e9c2a7d818
Revises: e4a1f6c2d317
Create Date: 2026-12-03 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import monitor.store.types

revision: str = "b5e9c2a7d818"
down_revision: str | None = "e4a1f6c2d317"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kserve_pending_pair",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("request", JSON, nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.Column("first_seen_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "event_id", name="uq_kserve_pending_pair_model_event"),
    )
    op.create_index("ix_kserve_pending_pair_first_seen", "kserve_pending_pair", ["first_seen_at"])
    op.create_table(
        "kserve_expired_pairs",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("responses", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id"),
    )


def downgrade() -> None:
    op.drop_table("kserve_expired_pairs")
    op.drop_index("ix_kserve_pending_pair_first_seen", table_name="kserve_pending_pair")
    op.drop_table("kserve_pending_pair")

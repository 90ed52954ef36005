"""serving endpoints and canary rollouts

Revision ID: 7e2b4c9d1f30
Revises: 5d1c0a7e9b10
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import monitor.store.types

revision: str = "7e2b4c9d1f30"
down_revision: str | None = "5d1c0a7e9b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
ACTIVE = sa.text("state IN ('shadowing', 'progressing', 'paused')")


def upgrade() -> None:
    op.create_table(
        "serving_endpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("accelerator", sa.String(length=8), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("v2_model_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("is_stable", sa.Boolean(), nullable=False),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "name", name="uq_serving_endpoint_model_name"),
    )
    op.create_table(
        "routing_state",
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("variants", JSON, nullable=False),
        sa.Column("updated_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id"),
    )
    op.create_table(
        "rollout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stable_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column(
            "candidate_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
        ),
        sa.Column("stable_endpoint", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column(
            "candidate_endpoint", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
        ),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("step_index", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("bake_seconds", sa.Integer(), nullable=False),
        sa.Column("shadow_seconds", sa.Integer(), nullable=False),
        sa.Column("min_requests", sa.Integer(), nullable=False),
        sa.Column("max_failed_checks", sa.Integer(), nullable=False),
        sa.Column("failed_checks", sa.Integer(), nullable=False),
        sa.Column("thresholds", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "step_started_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("finished_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rollout", schema=None) as batch_op:
        batch_op.create_index("ix_rollout_model_created", ["model_id", "created_at"], unique=False)
        batch_op.create_index("ix_rollout_state", ["state"], unique=False)
        # At most one active rollout per model (partial, on both stores).
        batch_op.create_index(
            "uq_rollout_active",
            ["model_id"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )

    for table, columns in (
        (
            "rollout_transition",
            [
                sa.Column("state", sa.String(length=16), nullable=False),
                sa.Column("weight", sa.Integer(), nullable=False),
                sa.Column("reason", sa.Text(), nullable=False),
            ],
        ),
        (
            "rollout_check",
            [
                sa.Column("step_index", sa.Integer(), nullable=False),
                sa.Column("weight", sa.Integer(), nullable=False),
                sa.Column("name", sa.String(length=32), nullable=False),
                sa.Column("stable_value", sa.Float(), nullable=True),
                sa.Column("canary_value", sa.Float(), nullable=True),
                sa.Column("threshold", sa.Float(), nullable=False),
                sa.Column("outcome", sa.String(length=16), nullable=False),
                sa.Column("n_stable", sa.Integer(), nullable=False),
                sa.Column("n_canary", sa.Integer(), nullable=False),
                sa.Column("detail", sa.Text(), nullable=False),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("rollout_id", sa.Integer(), nullable=False),
            sa.Column("time", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
            *columns,
            sa.ForeignKeyConstraint(["rollout_id"], ["rollout.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_rollout_id", ["rollout_id"], unique=False)


def downgrade() -> None:
    for table in ("rollout_check", "rollout_transition"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_rollout_id")
        op.drop_table(table)
    with op.batch_alter_table("rollout", schema=None) as batch_op:
        batch_op.drop_index("uq_rollout_active", sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.drop_index("ix_rollout_state")
        batch_op.drop_index("ix_rollout_model_created")
    op.drop_table("rollout")
    op.drop_table("routing_state")
    op.drop_table("serving_endpoint")

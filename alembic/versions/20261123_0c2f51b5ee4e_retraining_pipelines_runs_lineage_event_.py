"""retraining: pipelines, runs, lineage, event cursor

Revision ID: 0c2f51b5ee4e
Revises: 2ac113889a6a
Create Date: 2026-11-23 14:18:30.443785
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import monitor.store.types

revision: str = "0c2f51b5ee4e"
down_revision: str | None = "2ac113889a6a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # uq_retraining_run_active (partial, on both stores) keeps two runs of a model from overlapping.
    op.create_table(
        "retraining_cursor",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_table(
        "retraining_pipeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("callback_secret", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id"),
    )

    op.create_table(
        "retraining_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("event_uid", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "parameters",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", monitor.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("export_path", sa.Text(), nullable=True),
        sa.Column("rows_reference", sa.BigInteger(), nullable=False),
        sa.Column("rows_production", sa.BigInteger(), nullable=False),
        sa.Column("rows_holdout", sa.BigInteger(), nullable=False),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("logs", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("mlflow_run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("registry_model", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column(
            "gate",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("gate_passed", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pipeline_id"], ["retraining_pipeline.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("model_id", "event_id", name="uq_retraining_run_event"),
    )

    with op.batch_alter_table("retraining_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_retraining_run_model_created", ["model_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_retraining_run_status", ["status"], unique=False)
        batch_op.create_index(
            "uq_retraining_run_active",
            ["model_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.create_table(
        "model_lineage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("registry_model", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("trigger", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event_uid", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("mlflow_run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("champion_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("gate_passed", sa.Boolean(), nullable=True),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["retraining_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id"),
    )

    with op.batch_alter_table("model_lineage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_lineage_model_id"), ["model_id"], unique=False)
        batch_op.create_index(
            "ix_model_lineage_version", ["registry_model", "version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("model_lineage", schema=None) as batch_op:
        batch_op.drop_index("ix_model_lineage_version")
        batch_op.drop_index(batch_op.f("ix_model_lineage_model_id"))

    op.drop_table("model_lineage")

    with op.batch_alter_table("retraining_run", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_retraining_run_active",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.drop_index("ix_retraining_run_status")
        batch_op.drop_index("ix_retraining_run_model_created")

    op.drop_table("retraining_run")

    op.drop_table("retraining_pipeline")

    op.drop_table("retraining_cursor")

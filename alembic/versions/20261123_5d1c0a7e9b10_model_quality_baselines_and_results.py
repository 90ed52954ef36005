"""model quality: reference baselines, realized and estimated quality per window

Revision ID: 5d1c0a7e9b10
Revises: 0c2f51b5ee4e
Create Date: 2026-11-23 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import monitor.store.types

revision: str = "5d1c0a7e9b10"
down_revision: str | None = "0c2f51b5ee4e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = monitor.store.types.UTCDateTime(timezone=True)
_REFERENCE_DOCUMENTS = ("performance_baseline", "performance_estimator", "multivariate_profile")


def upgrade() -> None:
    with op.batch_alter_table("reference_dataset") as batch:
        for name in _REFERENCE_DOCUMENTS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))

    op.create_table(
        "quality_result",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("run_id", _ID, nullable=True),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("first_record_at", _TIME, nullable=False),
        sa.Column("last_record_at", _TIME, nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("realized", sa.Float(), nullable=True),
        sa.Column("realized_low", sa.Float(), nullable=True),
        sa.Column("realized_high", sa.Float(), nullable=True),
        sa.Column("estimated", sa.Float(), nullable=True),
        sa.Column("estimated_low", sa.Float(), nullable=True),
        sa.Column("estimated_high", sa.Float(), nullable=True),
        sa.Column("reference", sa.Float(), nullable=False),
        sa.Column("lower_bound", sa.Float(), nullable=True),
        sa.Column("upper_bound", sa.Float(), nullable=True),
        sa.Column("n_records", sa.Integer(), nullable=False),
        sa.Column("n_labelled", sa.Integer(), nullable=False),
        sa.Column("label_coverage", sa.Float(), nullable=False),
        sa.Column("judged", sa.Boolean(), nullable=False),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("estimated_degraded", sa.Boolean(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("label_revision", sa.Integer(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("evaluated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor_id", "window_end", "metric", name="uq_quality_result_metric"),
    )
    op.create_index(
        "ix_quality_result_model_records", "quality_result", ["model_id", "last_record_at"]
    )
    op.create_index("ix_quality_result_stale", "quality_result", ["stale"])

    op.create_table(
        "quality_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor_id"),
    )

    op.create_table(
        "multivariate_result",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("window_start", _TIME, nullable=False),
        sa.Column("window_end", _TIME, nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("reference", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("n_ref", sa.Integer(), nullable=False),
        sa.Column("n_cur", sa.Integer(), nullable=False),
        sa.Column("components", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["monitor_run.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index(
        "ix_multivariate_result_monitor_window",
        "multivariate_result",
        ["monitor_id", "window_end"],
    )


def downgrade() -> None:
    op.drop_index("ix_multivariate_result_monitor_window", table_name="multivariate_result")
    op.drop_table("multivariate_result")
    op.drop_table("quality_state")
    op.drop_index("ix_quality_result_stale", table_name="quality_result")
    op.drop_index("ix_quality_result_model_records", table_name="quality_result")
    op.drop_table("quality_result")
    with op.batch_alter_table("reference_dataset") as batch:
        for name in reversed(_REFERENCE_DOCUMENTS):
            batch.drop_column(name)

"""model versions in references, runs, results and states; the champion's history

Every reference stays, unversioned (it keeps applying to any version without a reference of its
own); runs and quality rows learn the reference they were judged against; the champion's
history is seeded from promoted rollouts and the versions stable endpoints serve.

Revision ID: 9b3e1f2a4c50
Revises: 7e2b4c9d1f30
Create Date: 2026-12-03 08:09:51
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import monitor.store.types

revision: str = "9b3e1f2a4c50"
down_revision: str | None = "7e2b4c9d1f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _version() -> sa.Column[str]:
    return sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True)


# The reference a run was judged against: the model's latest one uploaded before the run began.
_RUN_REFERENCE = """
UPDATE monitor_run SET reference_id = (
    SELECT r.id FROM reference_dataset r
    WHERE r.model_id = monitor_run.model_id AND r.created_at <= monitor_run.started_at
    ORDER BY r.created_at DESC, r.id DESC LIMIT 1
)
"""
_QUALITY_REFERENCE = """
UPDATE quality_result SET reference_id = (
    SELECT run.reference_id FROM monitor_run run WHERE run.id = quality_result.run_id
)
"""
# Promotions already made are the champion's history; a stable endpoint naming its version is
# the champion of a model that was never promoted.
_PROMOTED = """
INSERT INTO champion_change
    (model_id, model_version, previous_version, since, source, rollout_id, created_at)
SELECT model_id, candidate_version, stable_version, COALESCE(finished_at, updated_at),
       'rollout', id, COALESCE(finished_at, updated_at)
FROM rollout WHERE state = 'promoted'
"""
_STABLE = """
INSERT INTO champion_change (model_id, model_version, since, source, created_at)
SELECT e.model_id, e.model_version, e.created_at, 'endpoint', e.created_at
FROM serving_endpoint e
WHERE e.is_stable AND e.model_version IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM champion_change c WHERE c.model_id = e.model_id)
"""


def upgrade() -> None:
    op.create_table(
        "champion_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("previous_version", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("since", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=True),
        sa.Column("created_at", monitor.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["registered_model.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("champion_change") as batch_op:
        batch_op.create_index("ix_champion_change_model_since", ["model_id", "since"])
    with op.batch_alter_table("reference_dataset") as batch_op:
        batch_op.add_column(_version())
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="upload")
        )
        batch_op.add_column(sa.Column("retraining_run_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_reference_dataset_model_version", ["model_id", "model_version"])
    with op.batch_alter_table("reference_dataset") as batch_op:
        batch_op.alter_column("source", server_default=None)
    with op.batch_alter_table("monitor_run") as batch_op:
        batch_op.add_column(_version())
        batch_op.add_column(sa.Column("reference_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("quality_result") as batch_op:
        batch_op.add_column(_version())
        batch_op.add_column(sa.Column("reference_id", sa.Integer(), nullable=True))
    for table in ("drift_state", "feature_result", "multivariate_result", "quality_state"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(_version())
    op.execute(_RUN_REFERENCE)
    op.execute(_QUALITY_REFERENCE)
    op.execute(_PROMOTED)
    op.execute(_STABLE)


def downgrade() -> None:
    for table in ("quality_state", "multivariate_result", "feature_result", "drift_state"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("model_version")
    for table in ("quality_result", "monitor_run"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("reference_id")
            batch_op.drop_column("model_version")
    with op.batch_alter_table("reference_dataset") as batch_op:
        batch_op.drop_index("ix_reference_dataset_model_version")
        batch_op.drop_column("retraining_run_id")
        batch_op.drop_column("source")
        batch_op.drop_column("model_version")
    op.drop_table("champion_change")

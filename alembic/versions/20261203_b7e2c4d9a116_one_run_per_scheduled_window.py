"""one scheduled or backfilled run per monitor and window end

The key is (monitor_id, window_end) over runs whose trigger is `schedule` or `backfill`, a
partial unique index. Not model_version: a run learns the version it judges only when it is
computed (the champion at the window's end), so at insert time the column is NULL, and NULLs
never collide in a unique index; a key on it would let two schedulers both enqueue a tick
during a fail-over. Not the trigger either: a backfill over a window the schedule already ran
is that same window, already judged. Manual runs ("run now") stay outside the key, so an
operator can re-run a window on purpose. Scheduled ticks end on the schedule's own grid (see
monitor.scheduling.ticks.latest_tick), so two schedulers firing the same tick compute the
same window_end and the second insert is refused.

Runs that already share a key (a backfill repeated over one range) are kept: all but the
oldest become `manual`, since they were re-runs somebody asked for. History stays.

Revision ID: b7e2c4d9a116
Revises: c3f8a1d2e517
Create Date: 2026-12-03 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e2c4d9a116"
down_revision: str | None = "c3f8a1d2e517"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYED = "\"trigger\" IN ('schedule', 'backfill')"


def upgrade() -> None:
    op.execute(
        sa.text(
            f"""UPDATE monitor_run SET "trigger" = 'manual'
            WHERE {KEYED} AND EXISTS (
                SELECT 1 FROM monitor_run AS earlier
                WHERE earlier.monitor_id = monitor_run.monitor_id
                AND earlier.window_end = monitor_run.window_end
                AND earlier."trigger" IN ('schedule', 'backfill')
                AND earlier.id < monitor_run.id
            )"""
        )
    )
    op.create_index(
        "uq_monitor_run_scheduled_window",
        "monitor_run",
        ["monitor_id", "window_end"],
        unique=True,
        sqlite_where=sa.text(KEYED),
        postgresql_where=sa.text(KEYED),
    )


def downgrade() -> None:
    op.drop_index("uq_monitor_run_scheduled_window", table_name="monitor_run")

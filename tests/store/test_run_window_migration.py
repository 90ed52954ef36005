"""Migration b7e2c4d9a116 (one scheduled or backfilled run per window) keeps every run: those
that shared a window before the key become manual re-runs, on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from monitor.store.engine import make_engine
from monitor.store.migrations import alembic_config
from monitor.store.types import JSONValue, UTCDateTime
from tests.store.databases import store_at_revision

BEFORE, AFTER = "a4d8c6e2f713", "b7e2c4d9a116"
NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)
# run id -> (trigger, window end): 2 and 3 repeat 1's window (a backfill run twice), 4 is
# a manual re-run of it, 5 another window.
RUNS = {
    1: ("schedule", NOON),
    2: ("backfill", NOON),
    3: ("backfill", NOON),
    4: ("manual", NOON),
    5: ("backfill", NOON + timedelta(hours=1)),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    yield from store_at_revision(request, tmp_path_factory, BEFORE, "run-window")


def _seed(connection: sa.Connection) -> None:
    model = sa.table(
        "registered_model",
        *(sa.column(c) for c in ("id", "name", "task", "description")),
        sa.column("features", JSONValue),
        sa.column("class_labels", JSONValue),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    connection.execute(
        sa.insert(model),
        [
            {
                "id": 1,
                "name": "churn",
                "task": "binary_classification",
                "description": "",
                "features": [{"name": "tenure", "kind": "numerical", "nullable": False}],
                "class_labels": ["no", "yes"],
                "created_at": NOON,
                "updated_at": NOON,
            }
        ],
    )
    monitor = sa.table(
        "monitor",
        *(sa.column(c) for c in ("id", "model_id", "name", "enabled")),
        sa.column("config", JSONValue),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
    )
    connection.execute(
        sa.insert(monitor),
        [
            {
                "id": 1,
                "model_id": 1,
                "name": "drift",
                "enabled": True,
                "config": {"schedule": {"every": "1h"}, "window": {"duration": "1h"}},
                "created_at": NOON,
                "updated_at": NOON,
            }
        ],
    )
    rows = [_run(run_id, trigger, end) for run_id, (trigger, end) in RUNS.items()]
    connection.execute(sa.insert(_runs()), rows)


def _run(run_id: int, trigger: str, end: datetime) -> dict[str, object]:
    return {
        "id": run_id,
        "monitor_id": 1,
        "model_id": 1,
        "status": "succeeded",
        "trigger": trigger,
        "window_start": end - timedelta(hours=1),
        "window_end": end,
        "started_at": end,
        "heartbeat_at": end,
        **dict.fromkeys(("missed_ticks", "rows", "drifted_features", "tested_features"), 0),
        **dict.fromkeys(("dataset_drifted", "quality_failed"), False),
    }


def _runs() -> sa.TableClause:
    counts = ("missed_ticks", "rows", "drifted_features", "tested_features")
    return sa.table(
        "monitor_run",
        *(sa.column(c) for c in ("id", "monitor_id", "model_id", "status", "trigger", *counts)),
        *(sa.column(c, sa.Boolean()) for c in ("dataset_drifted", "quality_failed")),
        *(sa.column(c, UTCDateTime()) for c in ("window_start", "window_end")),
        *(sa.column(c, UTCDateTime()) for c in ("started_at", "heartbeat_at")),
    )


def _triggers(engine: sa.Engine) -> dict[int, str]:
    runs = _runs()
    with engine.connect() as connection:
        rows = connection.execute(sa.select(runs.c.id, runs.c.trigger).order_by(runs.c.id))
        return dict(rows.tuples().all())


def test_runs_that_shared_a_window_are_kept_as_manual_reruns_and_the_key_then_holds(
    old_store: str,
) -> None:
    engine = make_engine(old_store)
    with engine.begin() as connection:
        _seed(connection)
    command.upgrade(alembic_config(old_store), AFTER)
    assert _triggers(engine) == {
        1: "schedule",
        2: "manual",
        3: "manual",
        4: "manual",
        5: "backfill",
    }
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(_runs()), [_run(6, "backfill", RUNS[5][1])])
    command.downgrade(alembic_config(old_store), BEFORE)
    assert len(_triggers(engine)) == len(RUNS)
    engine.dispose()

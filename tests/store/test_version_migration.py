"""Migration 9b3e1f2a4c50 (model versions) keeps every reference, run and result, both ways.

A store at the revision before it is filled with plain SQL in the old schema, upgraded, read
back, then downgraded, on SQLite and on PostgreSQL.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, Engine

from monitor.store.engine import make_engine
from monitor.store.migrations import alembic_config
from monitor.store.types import JSONValue, UTCDateTime
from tests.store.databases import store_at_revision

BEFORE = "7e2b4c9d1f30"
AFTER = "9b3e1f2a4c50"
NEW_TABLES = frozenset({"champion_change"})

CHURN, FRAUD = 1, 2  # churn has two references and a stable endpoint; fraud a promoted rollout
OLD_REFERENCE, ACTIVE_REFERENCE = 11, 12

Row = dict[str, Any]


def _at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# churn's references: the first uploaded on 1 November and superseded by the second on the 10th.
OLD_UPLOADED = _at(11, 1, 9)
ACTIVE_UPLOADED = _at(11, 10, 9)
# run id -> (model, monitor, started_at, the reference it was judged against)
RUNS: dict[int, tuple[int, int, datetime, int | None]] = {
    101: (CHURN, 1, _at(10, 31, 12), None),  # before any reference was uploaded
    102: (CHURN, 1, _at(11, 5, 12), OLD_REFERENCE),
    103: (CHURN, 1, _at(11, 10, 9, 5), ACTIVE_REFERENCE),  # minutes after the second upload
    104: (CHURN, 1, _at(11, 12, 12), ACTIVE_REFERENCE),
    201: (FRAUD, 2, _at(11, 12, 12), None),  # fraud has no reference; churn's are not its own
}
# quality result id -> its run (None: a result written outside any run)
QUALITY_RESULTS: dict[int, int | None] = {1: 102, 2: 104, 3: 201, 4: None}
PROMOTED_AT = _at(11, 20, 15)
CHURN_ENDPOINT_CREATED = _at(10, 1, 8)


def _type_of(value: object) -> sa.types.TypeEngine[Any] | None:
    if isinstance(value, datetime):
        return UTCDateTime()
    if isinstance(value, dict | list):
        return JSONValue
    if isinstance(value, bytes):
        return sa.LargeBinary()
    return None


def _insert(connection: Connection, name: str, rows: Sequence[Row]) -> None:
    """Plain Core inserts into `name` as it stands in the old schema (no table classes)."""
    types: dict[str, sa.types.TypeEngine[Any] | None] = {}
    for row in rows:
        for key, value in row.items():
            if types.get(key) is None:
                types[key] = _type_of(value)
    table = sa.table(name, *(sa.column(key, type_) for key, type_ in types.items()))
    connection.execute(sa.insert(table), list(rows))


def _read(connection: Connection, name: str, *columns: str, order_by: str = "id") -> list[Row]:
    def typed(column: str) -> sa.ColumnClause[Any]:
        timed = column.endswith("_at") or column == "since"
        return sa.column(column, UTCDateTime() if timed else None)

    table = sa.table(name, *(typed(column) for column in {*columns, order_by}))
    query = sa.select(*(table.c[column] for column in columns)).order_by(table.c[order_by])
    return [dict(row._mapping) for row in connection.execute(query)]


def _counts(engine: Engine) -> dict[str, int]:
    tables = sorted(set(sa.inspect(engine).get_table_names()) - {"alembic_version"})
    with engine.connect() as connection:
        return {
            name: connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(name))
            ).scalar_one()
            for name in tables
        }


def _seed(connection: Connection) -> None:
    """A store in use before model versions: references, monitors, runs, results and states,
    a stable endpoint for churn and a promoted rollout for fraud."""
    features = [{"name": "tenure", "kind": "numerical", "nullable": False}]
    _insert(
        connection,
        "registered_model",
        [
            {
                "id": model_id,
                "name": name,
                "task": "binary_classification",
                "description": f"{name} model",
                "features": features,
                "class_labels": ["no", "yes"],
                "created_at": _at(9, 1),
                "updated_at": _at(9, 1),
            }
            for model_id, name in ((CHURN, "churn"), (FRAUD, "fraud"))
        ],
    )
    _insert(
        connection,
        "reference_dataset",
        [
            {
                "id": reference_id,
                "model_id": CHURN,
                "status": status,
                "source_format": "parquet",
                "row_count": 1000,
                "columns": ["tenure", "prediction"],
                "stored_bytes": 4096,
                "created_at": uploaded,
                "feature_profile": '{"tenure": {}}',
                "output_profile": "{}",
                "performance_baseline": '{"accuracy": 0.9}',
            }
            for reference_id, status, uploaded in (
                (OLD_REFERENCE, "superseded", OLD_UPLOADED),
                (ACTIVE_REFERENCE, "active", ACTIVE_UPLOADED),
            )
        ],
    )
    _insert(
        connection,
        "reference_chunk",
        [
            {"id": reference_id, "dataset_id": reference_id, "seq": 0, "row_count": 1000}
            | {"parquet": b"PAR1" + bytes(64)}
            for reference_id in (OLD_REFERENCE, ACTIVE_REFERENCE)
        ],
    )
    _insert(
        connection,
        "monitor",
        [
            {
                "id": model_id,
                "model_id": model_id,
                "name": "daily",
                "config": {"schedule": "0 0 * * *", "window": "1d"},
                "enabled": True,
                "created_at": _at(10, 1),
                "updated_at": _at(10, 1),
            }
            for model_id in (CHURN, FRAUD)
        ],
    )
    _insert(
        connection,
        "monitor_run",
        [
            {
                "id": run_id,
                "monitor_id": monitor_id,
                "model_id": model_id,
                "status": "succeeded",
                "trigger": "schedule",
                "window_start": started - timedelta(days=1),
                "window_end": started,
                "missed_ticks": 0,
                "rows": 500,
                "drifted_features": 0,
                "tested_features": 1,
                "dataset_drifted": False,
                "quality_failed": False,
                "started_at": started,
                "finished_at": started + timedelta(minutes=1),
                "heartbeat_at": started,
            }
            for run_id, (model_id, monitor_id, started, _) in RUNS.items()
        ],
    )
    _insert(
        connection,
        "feature_result",
        [
            {
                "id": run_id,
                "run_id": run_id,
                "monitor_id": monitor_id,
                "window_end": started,
                "feature": "tenure",
                "role": "feature",
                "test": "ks",
                "method": "ks",
                "statistic": 0.05,
                "p_value": 0.4,
                "drifted": False,
                "n_ref": 1000,
                "n_cur": 500,
                "new_categories": [],
            }
            for run_id, (_, monitor_id, started, _) in RUNS.items()
        ],
    )
    _insert(
        connection,
        "quality_check",
        [
            {
                "id": run_id,
                "run_id": run_id,
                "feature": "tenure",
                "check": "missing",
                "count": 0,
                "n_rows": 500,
                "share": 0.0,
                "threshold": 0.05,
                "failed": False,
            }
            for run_id in RUNS
        ],
    )
    _insert(connection, "run_report", [{"run_id": 104, "html": "<html></html>"}])
    _insert(
        connection,
        "multivariate_result",
        [
            {
                "run_id": 104,
                "monitor_id": 1,
                "window_start": _at(11, 11, 12),
                "window_end": _at(11, 12, 12),
                "method": "pca_reconstruction",
                "statistic": 1.1,
                "reference": 1.0,
                "threshold": 1.3,
                "drifted": False,
                "n_ref": 1000,
                "n_cur": 500,
                "components": 1,
            }
        ],
    )
    _insert(
        connection,
        "quality_result",
        [
            {
                "id": result_id,
                "monitor_id": 2 if run_id == 201 else 1,
                "model_id": FRAUD if run_id == 201 else CHURN,
                "run_id": run_id,
                "window_start": _at(11, 1 + result_id),
                "window_end": _at(11, 2 + result_id),
                "first_record_at": _at(11, 1 + result_id),
                "last_record_at": _at(11, 2 + result_id),
                "metric": "accuracy",
                "realized": 0.88,
                "reference": 0.9,
                "lower_bound": 0.85,
                "n_records": 500,
                "n_labelled": 400,
                "label_coverage": 0.8,
                "judged": True,
                "degraded": False,
                "estimated_degraded": False,
                "label_revision": 1,
                "stale": False,
                "evaluated_at": _at(11, 3 + result_id),
            }
            for result_id, run_id in QUALITY_RESULTS.items()
        ],
    )
    _insert(
        connection,
        "quality_state",
        [
            {"id": model_id, "monitor_id": model_id, "model_id": model_id, "status": "ok"}
            | {"since": _at(11, 3), "updated_at": _at(11, 12)}
            for model_id in (CHURN, FRAUD)
        ],
    )
    _insert(
        connection,
        "drift_state",
        [
            {
                "id": model_id,
                "monitor_id": model_id,
                "model_id": model_id,
                "feature": "tenure",
                "status": "ok",
                "drifted_streak": 0,
                "clean_streak": 3,
                "since": _at(11, 1),
                "last_run_id": 104 if model_id == CHURN else 201,
                "updated_at": _at(11, 12),
            }
            for model_id in (CHURN, FRAUD)
        ],
    )
    endpoint: Row = {"protocol": "mlflow", "accelerator": "cpu", "v2_model_name": None}
    _insert(
        connection,
        "serving_endpoint",
        [
            endpoint
            | {"id": 1, "model_id": CHURN, "name": "churn-v1", "url": "http://churn-v1:8080"}
            | {"model_version": "1", "is_stable": True, "created_at": CHURN_ENDPOINT_CREATED},
            # a candidate that never went stable is no champion
            endpoint
            | {"id": 2, "model_id": CHURN, "name": "churn-v2", "url": "http://churn-v2:8080"}
            | {"model_version": "2", "is_stable": False, "created_at": _at(11, 14)},
            # fraud's stable endpoint serves the promoted version: the promotion already says so
            endpoint
            | {"id": 3, "model_id": FRAUD, "name": "fraud-v2", "url": "http://fraud-v2:8080"}
            | {"model_version": "2", "is_stable": True, "created_at": _at(11, 15)},
        ],
    )
    rollout: Row = {
        "stable_version": "1",
        "candidate_version": "2",
        "steps": [10, 50, 100],
        "weight": 100,
        "bake_seconds": 600,
        "shadow_seconds": 0,
        "min_requests": 100,
        "max_failed_checks": 2,
        "thresholds": {"error_rate": 0.01},
    }
    _insert(
        connection,
        "rollout",
        [
            rollout
            | {"id": 1, "model_id": FRAUD, "state": "promoted", "step_index": 2}
            | {"stable_endpoint": "fraud-v1", "candidate_endpoint": "fraud-v2"}
            | {"failed_checks": 0, "reason": None, "created_at": _at(11, 15)}
            | {"updated_at": PROMOTED_AT, "step_started_at": _at(11, 19)}
            | {"finished_at": PROMOTED_AT},
            # churn's candidate was rolled back: churn's champion is still what churn-v1 serves
            rollout
            | {"id": 2, "model_id": CHURN, "state": "rolled_back", "step_index": 0}
            | {"stable_endpoint": "churn-v1", "candidate_endpoint": "churn-v2"}
            | {"failed_checks": 2, "reason": "error rate", "created_at": _at(11, 14)}
            | {"updated_at": _at(11, 14, 6), "step_started_at": _at(11, 14)}
            | {"finished_at": _at(11, 14, 6)},
        ],
    )
    _insert(
        connection,
        "rollout_transition",
        [
            {"id": 1, "rollout_id": 1, "time": PROMOTED_AT, "state": "promoted", "weight": 100}
            | {"reason": "all steps passed"}
        ],
    )


@dataclass(frozen=True)
class Migrated:
    """What the upgrade left, read back before the store is handed to the downgrade test."""

    url: str
    counts_before: Mapping[str, int]
    counts_after: Mapping[str, int]
    references: list[Row]
    runs: list[Row]
    quality_results: list[Row]
    champions: list[Row]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def old_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An empty store migrated to the revision before model versions, dropped afterwards."""
    yield from store_at_revision(request, tmp_path_factory, BEFORE, "version-migration")


@pytest.fixture(scope="module")
def migrated(old_store: str) -> Iterator[Migrated]:
    """The old store filled, counted, upgraded and read back."""
    engine = make_engine(old_store)
    with engine.begin() as connection:
        _seed(connection)
    counts_before = _counts(engine)
    command.upgrade(alembic_config(old_store), AFTER)
    counts_after = _counts(engine)
    with engine.connect() as connection:
        migrated = Migrated(
            url=old_store,
            counts_before=counts_before,
            counts_after=counts_after,
            references=_read(
                connection,
                "reference_dataset",
                "id",
                "status",
                "model_version",
                "source",
                "retraining_run_id",
            ),
            runs=_read(connection, "monitor_run", "id", "reference_id", "model_version"),
            quality_results=_read(
                connection, "quality_result", "id", "run_id", "reference_id", "model_version"
            ),
            champions=_read(
                connection,
                "champion_change",
                "model_id",
                "model_version",
                "previous_version",
                "since",
                "source",
                "rollout_id",
                order_by="model_id",
            ),
        )
    engine.dispose()
    yield migrated


def test_upgrade_keeps_every_row_of_every_table(migrated: Migrated) -> None:
    assert migrated.counts_before["reference_chunk"] == 2
    assert migrated.counts_before["feature_result"] == len(RUNS)
    assert set(migrated.counts_after) - set(migrated.counts_before) == NEW_TABLES
    kept = {name: migrated.counts_after[name] for name in migrated.counts_before}
    assert kept == migrated.counts_before


def test_upgrade_keeps_references_as_unversioned_uploads(migrated: Migrated) -> None:
    assert migrated.references == [
        {
            "id": OLD_REFERENCE,
            "status": "superseded",
            "model_version": None,
            "source": "upload",
            "retraining_run_id": None,
        },
        {
            "id": ACTIVE_REFERENCE,
            "status": "active",
            "model_version": None,
            "source": "upload",
            "retraining_run_id": None,
        },
    ]


def test_upgrade_links_each_run_to_its_models_latest_reference_before_it_started(
    migrated: Migrated,
) -> None:
    assert {run["id"]: run["reference_id"] for run in migrated.runs} == {
        run_id: reference for run_id, (_, _, _, reference) in RUNS.items()
    }
    assert {run["model_version"] for run in migrated.runs} == {None}


def test_upgrade_links_quality_results_to_their_runs_reference(migrated: Migrated) -> None:
    expected = {
        result_id: None if run_id is None else RUNS[run_id][3]
        for result_id, run_id in QUALITY_RESULTS.items()
    }
    assert {row["id"]: row["reference_id"] for row in migrated.quality_results} == expected
    assert {row["id"]: row["run_id"] for row in migrated.quality_results} == QUALITY_RESULTS
    assert {row["model_version"] for row in migrated.quality_results} == {None}


def test_upgrade_seeds_champions_from_promotions_and_stable_endpoints(
    migrated: Migrated,
) -> None:
    assert migrated.champions == [
        {
            "model_id": CHURN,
            "model_version": "1",
            "previous_version": None,
            "since": CHURN_ENDPOINT_CREATED,
            "source": "endpoint",
            "rollout_id": None,
        },
        {
            "model_id": FRAUD,
            "model_version": "2",
            "previous_version": "1",
            "since": PROMOTED_AT,
            "source": "rollout",
            "rollout_id": 1,
        },
    ]


def test_downgrade_keeps_every_row_of_the_old_tables(migrated: Migrated) -> None:
    command.downgrade(alembic_config(migrated.url), BEFORE)
    engine = make_engine(migrated.url)
    try:
        assert _counts(engine) == migrated.counts_before
        with engine.connect() as connection:
            references = _read(connection, "reference_dataset", "id", "status", "created_at")
    finally:
        engine.dispose()
    assert references == [
        {"id": OLD_REFERENCE, "status": "superseded", "created_at": OLD_UPLOADED},
        {"id": ACTIVE_REFERENCE, "status": "active", "created_at": ACTIVE_UPLOADED},
    ]

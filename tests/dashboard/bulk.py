"""A large store for the dashboard's timing: 50 models of 30 features, 1,250 runs with their
results, drift states and events. Models and monitors go through the API; the runs' outcomes
are inserted in bulk, as thousands of real runs would take far too long.

The first model also has versions: its champion moved from v1 to v2 `PROMOTED_HOURS_AGO`
hours ago, the windows since judged v2 against v2's own reference (uploaded after the first,
unversioned one), and every window has a model-quality point saying which version it judged."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlmodel import SQLModel

from monitor.entities.champion import ChampionChange
from monitor.entities.drift_state import ALERT, DriftState
from monitor.entities.event import Event
from monitor.entities.monitor import Monitor
from monitor.entities.quality import QualityResult
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.run import FeatureResult, MonitorRun
from monitor.store.engine import make_engine
from tests.dashboard.seed import Keys
from tests.e2e.server import bearer
from tests.factories import parquet_body

MODELS = 50
FEATURES = [f"f{i:02d}" for i in range(30)]
RUNS_PER_MODEL = 25
EVENTS = 400
PROMOTED_HOURS_AGO = 10.5  # between two windows' ends: windows ending since judge v2


def model_name(index: int) -> str:
    return f"model-{index:02d}"


def _table(entity: type[SQLModel]) -> Any:
    return entity.__table__  # type: ignore[attr-defined]


def register_models(client: httpx.Client, keys: Keys) -> None:
    """Every model with a monitor; the first also with references (its pages draw them): an
    unversioned one, then v2's."""
    admin = bearer(keys.admin)
    features = [{"name": name, "kind": "numerical"} for name in FEATURES]
    for index in range(MODELS):
        name = model_name(index)
        body = {"name": name, "task": "regression", "features": features}
        assert client.post("/api/v1/models", json=body, headers=admin).status_code == 201
        reply = client.post(
            f"/api/v1/models/{name}/monitors", json={"name": "drift"}, headers=admin
        )
        assert reply.status_code == 201, reply.text
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({name: rng.normal(0, 1, 2000) for name in FEATURES})
    frame["prediction"] = frame["f00"] * 2.0
    for version in (None, "2"):
        reply = client.post(
            f"/api/v1/models/{model_name(0)}/reference",
            content=parquet_body(frame),
            headers={**admin, "content-type": "application/x-parquet"},
            params={"model_version": version} if version else None,
        )
        assert reply.status_code == 201, reply.text


def _versions(connection: Any, model_id: int, now: datetime) -> tuple[datetime, int, int]:
    """The first model's champion history (v1, then v2); the promotion's time, and the ids of
    the references v1 and v2 were judged against."""
    promoted = now - timedelta(hours=PROMOTED_HOURS_AGO)
    connection.execute(
        insert(_table(ChampionChange)),
        [
            {
                "model_id": model_id,
                "model_version": "1",
                "previous_version": None,
                "since": now - timedelta(days=3),
                "source": "endpoint",
                "created_at": now,
            },
            {
                "model_id": model_id,
                "model_version": "2",
                "previous_version": "1",
                "since": promoted,
                "source": "rollout",
                "created_at": now,
            },
        ],
    )
    references = _table(ReferenceDataset)
    ids = dict(
        connection.execute(
            select(references.c.model_version, references.c.id).where(
                references.c.model_id == model_id
            )
        ).all()
    )
    return promoted, ids[None], ids["2"]


def _quality(run: Any, model_id: int, rng: np.random.Generator) -> dict[str, Any]:
    """A regression window's RMSE, realized and estimated, judged like its run."""
    realized, estimated = float(rng.normal(1.0, 0.05)), float(rng.normal(1.0, 0.03))
    start, end = run.window_start.replace(tzinfo=UTC), run.window_end.replace(tzinfo=UTC)
    return {
        "monitor_id": run.monitor_id,
        "model_id": model_id,
        "run_id": run.id,
        "model_version": run.model_version,
        "reference_id": run.reference_id,
        "window_start": start,
        "window_end": end,
        "first_record_at": start,
        "last_record_at": end,
        "metric": "rmse",
        "realized": realized,
        "realized_low": realized - 0.08,
        "realized_high": realized + 0.08,
        "estimated": estimated,
        "estimated_low": estimated - 0.06,
        "estimated_high": estimated + 0.06,
        "reference": 1.0,
        "upper_bound": 1.2,
        "n_records": 1000,
        "n_labelled": 800,
        "label_coverage": 0.8,
        "judged": True,
        "degraded": False,
    }


def insert_history(database_url: str, now: datetime) -> None:
    """Hourly runs up to `now` for every model, a result per column, states and events."""
    rng = np.random.default_rng(11)
    engine = make_engine(database_url)
    with engine.begin() as connection:
        monitors = connection.execute(
            select(_table(Monitor).c.id, _table(Monitor).c.model_id)
        ).all()
        names = dict(
            connection.execute(
                select(_table(RegisteredModel).c.id, _table(RegisteredModel).c.name)
            ).all()
        )
        versioned = next(i for i, name in names.items() if name == model_name(0))
        promoted, before, after = _versions(connection, versioned, now)

        def judged(model_id: int, window_end: datetime) -> dict[str, Any]:
            if model_id != versioned:
                return {"model_version": None, "reference_id": None}
            if window_end > promoted:
                return {"model_version": "2", "reference_id": after}
            return {"model_version": "1", "reference_id": before}

        runs = [
            {
                "monitor_id": monitor_id,
                "model_id": model_id,
                **judged(model_id, now - timedelta(hours=k)),
                "status": "succeeded",
                "trigger": "schedule",
                "window_start": now - timedelta(hours=k + 1),
                "window_end": now - timedelta(hours=k),
                "rows": 1000,
                "tested_features": len(FEATURES) + 1,
                "drifted_features": 0,
                "started_at": now,
                "finished_at": now,
                "heartbeat_at": now,
            }
            for monitor_id, model_id in monitors
            for k in range(RUNS_PER_MODEL)
        ]
        connection.execute(insert(_table(MonitorRun)), runs)
        stored = connection.execute(
            select(
                _table(MonitorRun).c.id,
                _table(MonitorRun).c.monitor_id,
                _table(MonitorRun).c.window_end,
            )
        ).all()
        results = []
        for run_id, monitor_id, window_end in stored:
            for column in [*FEATURES, "prediction"]:
                effect = float(rng.gamma(2.0, 0.03))
                results.append(
                    {
                        "run_id": run_id,
                        "monitor_id": monitor_id,
                        "window_end": window_end.replace(tzinfo=UTC),
                        "feature": column,
                        "role": "prediction" if column == "prediction" else "feature",
                        "test": "ks",
                        "method": "grid",
                        "statistic": effect,
                        "effect_size": effect,
                        "p_value": 0.01,
                        "adjusted_p_value": 0.02,
                        "threshold": 0.1,
                        "p_value_threshold": 0.05,
                        "drifted": effect > 0.1,
                        "n_ref": 2000,
                        "n_cur": 1000,
                        "new_categories": [],
                    }
                )
        connection.execute(insert(_table(FeatureResult)), results)
        table = _table(MonitorRun)
        versioned_runs = connection.execute(
            select(table).where(table.c.model_id == versioned).order_by(table.c.window_end)
        ).all()
        connection.execute(
            insert(_table(QualityResult)),
            [_quality(run, versioned, rng) for run in versioned_runs],
        )
        connection.execute(
            insert(_table(DriftState)),
            [
                {
                    "monitor_id": monitor_id,
                    "model_id": model_id,
                    "feature": ALERT,
                    "status": "drifting" if model_id % 3 == 0 else "ok",
                    "since": now,
                    "updated_at": now,
                }
                for monitor_id, model_id in monitors
            ],
        )
        connection.execute(
            insert(_table(Event)),
            [
                {
                    "uid": f"evt_bulk{i:06d}",
                    "type": "drift.detected",
                    "time": now - timedelta(minutes=i),
                    "model_id": model_id,
                    "model": names[model_id],
                    "severity": "warning",
                    "data": {"monitor": "drift", "features": ["f00"]},
                    "fanned_out_at": now,
                }
                for i, (_, model_id) in enumerate(monitors * (EVENTS // len(monitors)))
            ],
        )
    engine.dispose()

"""A large store for the dashboard's timing: 50 models of 30 features, 1,250 runs with their
results, drift states and events. Models and monitors go through the API; the runs' outcomes
are inserted in bulk, as thousands of real runs would take far too long."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import insert, select
from sqlmodel import SQLModel

from monitor.entities.drift_state import ALERT, DriftState
from monitor.entities.event import Event
from monitor.entities.monitor import Monitor
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


def model_name(index: int) -> str:
    return f"model-{index:02d}"


def _table(entity: type[SQLModel]) -> Any:
    return entity.__table__  # type: ignore[attr-defined]


def register_models(client: httpx.Client, keys: Keys) -> None:
    """Every model with a monitor; the first also with a reference (its pages draw it)."""
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
    reply = client.post(
        f"/api/v1/models/{model_name(0)}/reference",
        content=parquet_body(frame),
        headers={**admin, "content-type": "application/x-parquet"},
    )
    assert reply.status_code == 201, reply.text


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
        runs = [
            {
                "monitor_id": monitor_id,
                "model_id": model_id,
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

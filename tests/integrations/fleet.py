"""A stored fleet for scrape-size checks: `models` models of `features` numerical features, each
with one monitor whose latest run tested every feature and the prediction by PSI and KS, six
quality metrics, a multivariate verdict and a rollout in progress, written straight into the
store (running thousands of real monitors would only slow the check down)."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session, SQLModel

from monitor.entities.drift_state import ALERT, DATASET, DriftState
from monitor.entities.monitor import Monitor
from monitor.entities.quality import MultivariateResult, QualityResult, QualityState
from monitor.entities.registered_model import RegisteredModel, Task
from monitor.entities.rollout import Rollout, RolloutState
from monitor.entities.run import FeatureResult, MonitorRun, RunStatus, RunTrigger

END = datetime(2026, 12, 1, tzinfo=UTC)
START = END - timedelta(hours=1)
TESTS = ("psi", "ks")
QUALITY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")


def seed_fleet(engine: Engine, *, models: int, features: int) -> None:
    """The fleet in one multi-row insert per table; model, monitor and run `i + 1` belong
    together (the store must be empty)."""
    tables: dict[type[SQLModel], list[dict[str, Any]]] = defaultdict(list)
    for index in range(models):
        for row in _model_rows(index + 1, features):
            tables[type(row)].append(row.model_dump())
    with Session(engine) as session:
        for table, values in tables.items():
            session.execute(insert(table), values)
        session.commit()


def _model_rows(key: int, features: int) -> Iterator[SQLModel]:
    columns = [f"f{i:02d}" for i in range(features)]
    yield RegisteredModel(
        id=key,
        name=f"fleet-{key - 1:04d}",
        task=Task.BINARY_CLASSIFICATION,
        features=[{"name": c, "kind": "numerical", "nullable": False} for c in columns],
    )
    yield Monitor(id=key, model_id=key, name="drift", config={})
    yield MonitorRun(
        id=key,
        monitor_id=key,
        model_id=key,
        status=RunStatus.SUCCEEDED,
        trigger=RunTrigger.SCHEDULE,
        window_start=START,
        window_end=END,
        started_at=END - timedelta(seconds=2),
        finished_at=END,
    )
    tested = [(c, "feature") for c in columns] + [("prediction", "prediction")]
    result = FeatureResult(
        run_id=key,
        monitor_id=key,
        window_end=END,
        feature="",
        role="feature",
        test="",
        method="",
        statistic=0.05,
        effect_size=0.05,
        threshold=0.1,
    )
    for column, role in tested:
        for test in TESTS:
            yield result.model_copy(
                update={"feature": column, "role": role, "test": test, "method": test}
            )
    state = DriftState(monitor_id=key, model_id=key, feature="", last_run_id=key)
    for column in [c for c, _ in tested] + [DATASET, ALERT]:
        yield state.model_copy(update={"feature": column})
    quality = QualityResult(
        monitor_id=key,
        model_id=key,
        run_id=key,
        window_start=START,
        window_end=END,
        first_record_at=START,
        last_record_at=END,
        metric="",
        realized=0.8,
        estimated=0.8,
        reference=0.8,
        n_records=1000,
        n_labelled=500,
        label_coverage=0.5,
        judged=True,
        degraded=False,
    )
    for metric in QUALITY_METRICS:
        yield quality.model_copy(update={"metric": metric})
    yield QualityState(monitor_id=key, model_id=key)
    yield MultivariateResult(
        run_id=key,
        monitor_id=key,
        window_start=START,
        window_end=END,
        method="pca",
        statistic=1.0,
        reference=1.0,
        threshold=1.2,
        drifted=False,
        n_ref=1000,
        n_cur=1000,
        components=3,
    )
    yield Rollout(
        model_id=key,
        state=RolloutState.PROGRESSING,
        candidate_version="2",
        candidate_endpoint="green",
        steps=[5, 25, 50, 100],
        weight=25,
        bake_seconds=60,
        min_requests=50,
        max_failed_checks=2,
        thresholds={},
    )

"""`GET /metrics` exports the monitoring state from the store: after a real monitor run, its
drift, drift state, quality and multivariate series carry the values stored in the run."""

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from monitor.api.app import create_app
from monitor.deployers.process import free_port
from monitor.entities.run import FeatureResult
from monitor.settings import Settings
from monitor.store.engine import make_engine
from tests.detectors.quality_factories import FEATURES
from tests.integrations.fleet import seed_fleet
from tests.integrations.scrape import scrape, value
from tests.runs.quality_scenario import (
    MODEL,
    URL,
)

# docs/integrations.md: the bound on the store's series for 100 models of 24 features.
FLEET_SERIES_BOUND = 35_000
HTTP_METRICS = ("monitor_http_", "monitor_records_", "monitor_labels_")


def test_drift_series_carry_the_latest_runs_results_and_the_settled_states(
    monitored: dict[str, Any], client: TestClient, reader: dict[str, str]
) -> None:
    samples = scrape(client)
    results = monitored["results"]
    assert {r["feature"] for r in results} >= set(FEATURES)
    for result in results:
        key = {"model": MODEL, "monitor": "drift", "column": result["feature"]}
        key["test"] = result["test"]
        assert value(samples, "monitor_drift_statistic", **key) == pytest.approx(
            result["statistic"]
        )
        if result["effect_size"] is not None:
            assert value(samples, "monitor_drift_effect_size", **key) == pytest.approx(
                result["effect_size"]
            )
        assert value(samples, "monitor_drift_threshold", **key) == pytest.approx(
            result["threshold"]
        )
        assert value(samples, "monitor_drift_drifted", **key) == float(result["drifted"])
    assert value(samples, "monitor_drift_drifted", column="x3", test="psi") == 1.0  # shifted
    reply = client.get(f"{URL}/drift", headers=reader)
    (monitor,) = reply.json()
    alert = {"model": MODEL, "monitor": "drift", "column": "__monitor__"}
    assert value(samples, "monitor_drift_state", **alert) == float(monitor["status"] == "drifting")
    assert monitor["features"]
    for column in monitor["features"]:
        key = {"model": MODEL, "monitor": "drift", "column": column["feature"]}
        drifting = float(column["status"] == "drifting")
        assert value(samples, "monitor_drift_state", **key) == drifting


def test_quality_multivariate_and_run_series_carry_the_stored_values(
    monitored: dict[str, Any], client: TestClient, reader: dict[str, str]
) -> None:
    reply = client.get(f"{URL}/quality", params={"monitor": "drift"}, headers=reader)
    latest = [
        r for r in reply.json()["data"] if r["window_end"] == reply.json()["data"][-1]["window_end"]
    ]
    samples = scrape(client)
    assert len(latest) == 6
    for row in latest:
        key = {"model": MODEL, "monitor": "drift", "metric": row["metric"]}
        assert value(samples, "monitor_quality_realized", **key) == pytest.approx(row["realized"])
        assert value(samples, "monitor_quality_estimated", **key) == pytest.approx(row["estimated"])
        assert value(samples, "monitor_quality_label_coverage_ratio", **key) == 0.5
    assert value(samples, "monitor_quality_degraded", model=MODEL) in (0.0, 1.0)
    assert value(samples, "monitor_runs_total", model=MODEL, status="succeeded") == 2
    assert value(samples, "monitor_run_last_duration_seconds", model=MODEL) > 0
    window_end = value(samples, "monitor_run_last_window_end_timestamp_seconds", model=MODEL)
    assert window_end == pytest.approx(datetime.fromisoformat(monitored["window_end"]).timestamp())
    stored = monitored["multivariate"]
    assert value(samples, "monitor_multivariate_statistic", model=MODEL) == pytest.approx(
        stored["statistic"]
    )
    assert value(samples, "monitor_multivariate_drifted", model=MODEL) == float(stored["drifted"])


def test_a_fleet_of_100_models_of_24_features_stays_under_the_documented_series_bound(
    postgres_url: str, tmp_path: Path
) -> None:
    """On the production store only: the count does not depend on the store, the time does."""
    engine = make_engine(postgres_url)
    seed_fleet(engine, models=100, features=24)
    engine.dispose()
    settings = Settings(
        database_url=postgres_url, data_dir=tmp_path, migrate_on_start=False, scheduler=False
    )
    with TestClient(create_app(settings)) as client:
        started = time.perf_counter()
        samples = scrape(client)
        elapsed = time.perf_counter() - started
    store_series = sum(
        len(found)
        for name, found in samples.items()
        if not name.startswith(HTTP_METRICS) and name != "monitor_store_up"
    )
    assert value(samples, "monitor_store_up") == 1.0
    # Per model: 4 series x 25 columns x 2 tests, 27 states, 1 omitted count, 2 timings and
    # 1 run count, 3 multivariate, 6 x 3 quality + 1 state, 6 rollout states + 2 (docs).
    assert store_series == 100 * (200 + 27 + 1 + 3 + 3 + 19 + 8)
    assert store_series < FLEET_SERIES_BOUND
    assert elapsed < 10.0, f"a scrape of the fleet took {elapsed:.2f} s"


def test_the_column_cap_keeps_drifted_columns_and_counts_the_omitted_ones(
    engine: Engine, settings: Settings
) -> None:
    seed_fleet(engine, models=1, features=24)
    capped = settings.model_copy(update={"metrics_max_columns_per_model": 5})
    with Session(engine) as session:
        result = session.exec(select(FeatureResult).where(FeatureResult.feature == "f17")).first()
        assert result is not None
        result.drifted = True
        session.add(result)
        session.commit()
    with TestClient(create_app(capped)) as small:
        samples = scrape(small)
    columns = {s.labels["column"] for s in samples["monitor_drift_statistic"]}
    assert columns == {"prediction", "f17", "f00", "f01", "f02"}
    assert value(samples, "monitor_drift_columns_omitted", model="fleet-0000") == 20


def test_with_the_store_away_the_scrape_still_answers_and_says_so(tmp_path: Path) -> None:
    away = Settings(
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone",
        data_dir=tmp_path,
        migrate_on_start=False,
        scheduler=False,
    )
    with TestClient(create_app(away)) as client:
        client.get("/healthz")
        samples = scrape(client)
    assert value(samples, "monitor_store_up") == 0.0
    assert value(samples, "monitor_http_requests_total", route="/healthz") == 1.0
    assert "monitor_drift_state" not in samples

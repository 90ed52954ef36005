"""`GET /metrics` exports the monitoring state from the store: after a real monitor run, its
drift, drift state, quality and multivariate series carry the values stored in the run."""

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from monitor.scheduling import jobs
from tests.detectors.quality_factories import FEATURES, binary_sample
from tests.runs.quality_scenario import (
    MODEL,
    URL,
    create_monitor,
    register_model,
    run_windows,
    send_labels,
    send_window,
)


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    """Every sample of the exposition by metric name, parsed by prometheus_client's parser."""
    reply = client.get("/metrics")
    assert reply.status_code == 200
    samples: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    matching = [s for s in samples.get(name, []) if labels.items() <= s.labels.items()]
    assert len(matching) == 1, f"{name}{labels}: {matching}"
    return matching[0].value


@pytest.fixture
def monitored(client: TestClient, admin: dict[str, str], database_url: str) -> dict[str, Any]:
    """The quality scenario's model after two real runs, half its rows labelled; returns the
    last run's detail."""
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(5_000, seed=31))
    create_monitor(client, admin)
    for index in (0, 1):
        sample = binary_sample(1_000, seed=60 + index, shift=(0.0, 0.0, 1.5 * index))
        ids = send_window(client, admin, index, sample)
        send_labels(client, admin, ids[:500], sample.labels[:500])
    return run_windows(client, admin, 2)[-1]


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

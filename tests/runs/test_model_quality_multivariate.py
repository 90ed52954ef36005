"""Multivariate drift in real monitor runs: two features keep their marginals while their
correlation flips (+0.8 in the reference, -0.8 in the window); only the multivariate signal
sees it."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.factories import correlated_frame, records_from, upload_reference

URL = "/api/v1/models/corr"
START = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def runs(client: TestClient, admin: dict[str, str], database_url: str) -> list[dict[str, Any]]:
    """Window 0 keeps the reference's correlation, window 1 flips it."""
    jobs.bind(database_url)
    features = [{"name": n, "kind": "numerical"} for n in ("x1", "x2", "x3")]
    features.append({"name": "plan", "kind": "categorical"})
    body = {"name": "corr", "task": "binary_classification", "features": features}
    client.post("/api/v1/models", json=body, headers=admin)
    upload_reference(client, admin, correlated_frame(10_000, 0.8, seed=81), model="corr")
    for index, correlation in enumerate((0.8, -0.8)):
        records = records_from(correlated_frame(2_000, correlation, seed=82 + index), f"w{index}")
        for record in records:
            record["timestamp"] = (START + timedelta(hours=index, minutes=30)).isoformat()
        client.post(f"{URL}/inferences", json={"records": records}, headers=admin)
    client.post(f"{URL}/monitors", json={"window": {"duration": "1h"}}, headers=admin)
    end = START + timedelta(hours=2)
    queued = client.post(
        f"{URL}/monitors/drift/backfill",
        json={"start": START.isoformat(), "end": end.isoformat()},
        headers=admin,
    ).json()
    assert jobs.drain_queue() == 2
    return [client.get(f"{URL}/runs/{i}", headers=admin).json() for i in queued["run_ids"]]


def test_correlation_flip_is_flagged_by_the_multivariate_signal(
    runs: list[dict[str, Any]],
) -> None:
    same, flipped = (run["multivariate"] for run in runs)
    assert (same["drifted"], flipped["drifted"]) == (False, True)
    assert flipped["method"] == "pca_reconstruction"
    assert flipped["statistic"] > flipped["threshold"]


def test_correlation_flip_leaves_the_univariate_tests_quiet(runs: list[dict[str, Any]]) -> None:
    flipped = runs[1]
    assert flipped["status"] == "succeeded" and not flipped["dataset_drifted"]
    assert [r["feature"] for r in flipped["results"] if r["drifted"]] == []


def test_multivariate_series_lists_each_run_oldest_first(
    runs: list[dict[str, Any]], client: TestClient, reader: dict[str, str]
) -> None:
    reply = client.get(f"{URL}/multivariate", params={"monitor": "drift"}, headers=reader)
    series = reply.json()
    assert series["count"] == 2
    assert [p["drifted"] for p in series["data"]] == [False, True]
    assert series["data"][1]["window_start"] == runs[1]["window_start"]

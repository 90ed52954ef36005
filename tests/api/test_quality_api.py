"""`GET /quality` and `GET /multivariate`: the contract's shapes, filters, keys and errors, and
the monitor's `quality` settings and the reference's labels they depend on."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.detectors.quality_factories import binary_sample
from tests.factories import parquet_body
from tests.runs.quality_scenario import (
    MODEL,
    START,
    URL,
    create_monitor,
    quality,
    register_model,
    run_windows,
    send_labels,
    send_window,
)

QUALITY_FIELDS = {
    "model_version",
    "reference_id",
    "window_start",
    "window_end",
    "metric",
    "realized",
    "realized_low",
    "realized_high",
    "estimated",
    "estimated_low",
    "estimated_high",
    "reference",
    "lower_bound",
    "upper_bound",
    "n_records",
    "n_labelled",
    "label_coverage",
    "degraded",
    "evaluated_at",
}


@pytest.fixture
def registered(client: TestClient, admin: dict[str, str], database_url: str) -> TestClient:
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(5_000, seed=31))
    return client


def _two_windows(client: TestClient, headers: dict[str, str], labelled: int) -> None:
    """Windows 0 and 1 of the reference's world, `labelled` rows of each with their label."""
    for index in (0, 1):
        sample = binary_sample(1_000, seed=60 + index)
        ids = send_window(client, headers, index, sample)
        if labelled:
            send_labels(client, headers, ids[:labelled], sample.labels[:labelled])


def test_each_window_has_one_row_per_metric_in_the_contract_shape(
    registered: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    create_monitor(registered, admin)
    _two_windows(registered, admin, labelled=500)
    run_windows(registered, admin, 2)
    reply = registered.get(f"{URL}/quality", params={"monitor": "drift"}, headers=reader)
    body = reply.json()
    assert body["count"] == len(body["data"]) == 12  # binary with scores: six metrics
    first = body["data"][0]
    assert set(first) == QUALITY_FIELDS
    assert (first["n_records"], first["n_labelled"], first["label_coverage"]) == (1_000, 500, 0.5)
    assert first["realized_low"] <= first["realized"] <= first["realized_high"]
    assert first["estimated_low"] <= first["estimated"] <= first["estimated_high"]


def test_start_and_end_select_windows_by_their_end(
    registered: TestClient, admin: dict[str, str]
) -> None:
    create_monitor(registered, admin)
    _two_windows(registered, admin, labelled=0)
    run_windows(registered, admin, 2)
    second_end = (START + timedelta(hours=2)).isoformat()
    reply = registered.get(
        f"{URL}/quality", params={"start": second_end, "end": second_end}, headers=admin
    )
    assert reply.json()["count"] == 0
    reply = registered.get(f"{URL}/quality", params={"start": second_end}, headers=admin)
    ends = {row["window_end"] for row in reply.json()["data"]}
    assert ends == {second_end.replace("+00:00", "Z")}


def test_monitor_rules_choose_the_metrics_and_set_the_bound(
    registered: TestClient, admin: dict[str, str]
) -> None:
    rule = {"metric": "roc_auc", "max_drop": 0.03, "std_factor": None, "min_labels": 50}
    create_monitor(registered, admin, quality={"rules": [rule]})
    _two_windows(registered, admin, labelled=60)
    run_windows(registered, admin, 2)
    rows = quality(registered, admin)
    assert [row["metric"] for row in rows] == ["roc_auc", "roc_auc"]
    assert rows[0]["lower_bound"] == pytest.approx(rows[0]["reference"] - 0.03)


@pytest.mark.parametrize(
    ("quality_settings", "message"),
    [
        ({"rules": [{"metric": "auc"}]}, "metric must be one of"),
        ({"rules": [{"metric": "f1", "std_factor": None}]}, "needs max_drop, relative_drop"),
        ({"rules": [{"metric": "f1"}, {"metric": "f1"}]}, "one rule per metric"),
    ],
)
def test_bad_quality_settings_are_refused_naming_the_field(
    registered: TestClient, admin: dict[str, str], quality_settings: Any, message: str
) -> None:
    body = {"quality": quality_settings}
    reply = registered.post(f"{URL}/monitors", json=body, headers=admin)
    assert reply.status_code == 422
    problem = reply.json()["detail"][0]
    assert problem["loc"][:2] == ["body", "quality"] and message in problem["msg"]


def test_a_reference_with_too_few_labels_is_refused_naming_label(
    registered: TestClient, admin: dict[str, str]
) -> None:
    sample = binary_sample(15, seed=3)
    frame = sample.features.assign(prediction=sample.scores, label=sample.labels.astype(str))
    reply = registered.post(
        f"{URL}/reference",
        content=parquet_body(frame),
        headers={**admin, "content-type": "application/x-parquet"},
    )
    assert reply.status_code == 422
    problem = reply.json()["detail"][0]
    assert problem["loc"] == ["body", "label"] and "at least 20 are needed" in problem["msg"]


def test_a_reference_without_labels_gives_multivariate_drift_but_no_quality(
    registered: TestClient, admin: dict[str, str]
) -> None:
    sample = binary_sample(5_000, seed=31)
    reply = registered.post(
        f"{URL}/reference",
        content=parquet_body(sample.features.assign(prediction=sample.scores)),
        headers={**admin, "content-type": "application/x-parquet"},
    )
    assert reply.status_code == 201, reply.text
    create_monitor(registered, admin)
    _two_windows(registered, admin, labelled=1_000)
    [run, _] = run_windows(registered, admin, 2)
    assert run["multivariate"]["drifted"] is False
    assert quality(registered, admin) == []


def test_quality_of_an_unknown_monitor_is_404_with_the_fix(
    registered: TestClient, reader: dict[str, str]
) -> None:
    reply = registered.get(f"{URL}/quality", params={"monitor": "nope"}, headers=reader)
    assert reply.status_code == 404
    assert f"POST /api/v1/models/{MODEL}/monitors" in reply.json()["detail"]


@pytest.mark.parametrize("path", ["quality", "multivariate"])
def test_reading_quality_needs_a_key(registered: TestClient, path: str) -> None:
    assert registered.get(f"{URL}/{path}").status_code == 401

"""Concept drift through real monitor runs: realized quality from late labels, the
`model_quality.*` events, and their re-evaluation as labels keep arriving.

Data (`tests.detectors.quality_factories`): reference of 10,000 rows with the concept
w = (1.2, -0.8, 0.5); windows of 2,000 rows with the same P(x). "new" windows have
w = (0, -0.8, 0.5): P(y | x) changes, P(x) and the model's scores do not.
"""

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from monitor.entities.delivery import Delivery
from monitor.notifications.fanout import fan_out
from monitor.runs.relabelling import refresh_stale_quality
from monitor.scheduling import jobs
from monitor.store.types import utc_now
from tests.detectors.quality_factories import Sample, binary_sample
from tests.runs.quality_scenario import (
    create_monitor,
    events,
    quality,
    register_model,
    run_windows,
    send_labels,
    send_window,
    window_metric,
    window_start,
)

NEW_CONCEPT = np.array([0.0, -0.8, 0.5])


def old_window(seed: int) -> Sample:
    return binary_sample(2_000, seed=seed)


def new_window(seed: int) -> Sample:
    return binary_sample(2_000, seed=seed, weights=NEW_CONCEPT)


@pytest.fixture
def monitored(client: TestClient, admin: dict[str, str], database_url: str) -> TestClient:
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(10_000, seed=31))
    create_monitor(client, admin)
    return client


def test_concept_drift_is_degraded_in_the_first_window_with_enough_labels_and_drift_is_quiet(
    monitored: TestClient, admin: dict[str, str]
) -> None:
    windows = [old_window(40), old_window(41), new_window(42), new_window(43)]
    for index, sample in enumerate(windows):
        ids = send_window(monitored, admin, index, sample)
        known = 100 if index == 2 else 2_000  # window 2: the first 5% of its labels so far
        send_labels(monitored, admin, ids[:known], sample.labels[:known])

    runs = run_windows(monitored, admin, 4)

    assert [run["status"] for run in runs] == ["succeeded"] * 4
    assert [run["drifted_features"] for run in runs] == [0] * 4
    assert events(monitored, admin, "drift.") == []
    [degraded] = events(monitored, admin, "model_quality.")
    assert degraded["type"] == "model_quality.degraded"
    assert degraded["data"]["window"]["start"] == window_start(2)
    assert {"accuracy", "roc_auc"} <= set(degraded["data"]["degraded_metrics"])
    assert degraded["data"]["n_labelled"] == 100 and degraded["data"]["coverage"] == 0.05


def test_degraded_event_says_metric_realized_interval_reference_bound_and_coverage(
    monitored: TestClient, admin: dict[str, str]
) -> None:
    sample = new_window(42)
    send_labels(monitored, admin, send_window(monitored, admin, 0, sample), sample.labels)
    run_windows(monitored, admin, 1)
    [event] = events(monitored, admin, "model_quality.")
    data = event["data"]
    low, high = data["interval"]
    assert data["metric"] in data["degraded_metrics"]
    assert low <= data["realized"] <= high < data["reference"]
    assert data["realized"] < data["bound"] < data["reference"]
    assert data["coverage"] == 1.0 and data["monitor"] == "drift"
    assert event["dedup_key"] == "quality/drift/model_quality"


def _labelled_rows(client: TestClient, headers: dict[str, str], index: int) -> int:
    rows = quality(client, headers)
    labelled: int = window_metric(rows, index, "roc_auc")["n_labelled"]
    return labelled


def _quality_events(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (e["type"], e["data"]["window"]["start"]) for e in events(client, headers, "model_quality.")
    ]


def test_late_label_batches_update_their_windows_and_events_follow_without_duplicates(
    monitored: TestClient, admin: dict[str, str], database_url: str
) -> None:
    client, engine = monitored, jobs.engine_for(database_url)
    samples = [old_window(40), old_window(41), new_window(42), old_window(44)]
    ids = [send_window(client, admin, i, sample) for i, sample in enumerate(samples)]
    run_windows(client, admin, 4)
    before = quality(client, admin)
    assert all(r["realized"] is None and r["n_labelled"] == 0 for r in before)
    assert window_metric(before, 2, "roc_auc")["estimated"] is not None
    assert _quality_events(client, admin) == []

    def label(index: int, rows: slice) -> None:
        send_labels(client, admin, ids[index][rows], samples[index].labels[rows])

    label(2, slice(0, 40))
    assert refresh_stale_quality(engine) == 1
    assert _labelled_rows(client, admin, 2) == 40
    assert _quality_events(client, admin) == []  # 40 labels: a verdict must wait

    label(2, slice(40, 100))
    assert refresh_stale_quality(engine) == 1
    assert _labelled_rows(client, admin, 2) == 100
    assert _quality_events(client, admin) == [("model_quality.degraded", window_start(2))]

    label(0, slice(None))
    label(1, slice(None))
    label(2, slice(100, None))
    assert refresh_stale_quality(engine) == 3
    assert _labelled_rows(client, admin, 2) == 2_000
    assert len(_quality_events(client, admin)) == 1  # older windows were fine all along

    label(3, slice(None))
    assert refresh_stale_quality(engine) == 1
    label(3, slice(None))  # the same labels again: re-evaluated, nothing new to say
    assert refresh_stale_quality(engine) == 1
    assert refresh_stale_quality(engine) == 0
    assert _quality_events(client, admin) == [
        ("model_quality.degraded", window_start(2)),
        ("model_quality.recovered", window_start(3)),
    ]
    rows = quality(client, admin)
    metrics = {r["metric"] for r in rows}
    assert len(rows) == 4 * len(metrics)  # each window's rows replaced in place
    assert [window_metric(rows, i, "roc_auc")["degraded"] for i in range(4)] == [
        False,
        False,
        True,
        False,
    ]


def test_quality_events_reach_channels_filtering_on_them_as_an_alert_and_its_resolution(
    monitored: TestClient, admin: dict[str, str], database_url: str
) -> None:
    channel = {
        "name": "quality-hook",
        "kind": "webhook",
        "secrets": {
            "url": "http://127.0.0.1:9/hook",
            "signing_secret": "whsec_" + base64.b64encode(b"k" * 32).decode(),
        },
        "filters": {"event_types": ["model_quality.degraded", "model_quality.recovered"]},
    }
    reply = monitored.post("/api/v1/channels", json=channel, headers=admin)
    assert reply.status_code == 201, reply.text
    for index, sample in enumerate([new_window(42), old_window(44)]):
        ids = send_window(monitored, admin, index, sample)
        send_labels(monitored, admin, ids, sample.labels)
    run_windows(monitored, admin, 2)
    with Session(jobs.engine_for(database_url)) as session:
        fan_out(session, now=utc_now(), limit=100)
        deliveries = session.exec(select(Delivery).order_by(col(Delivery.id))).all()
        assert [(d.phase, d.group_key) for d in deliveries] == [
            ("firing", "quality/drift/model_quality"),
            ("resolved", "quality/drift/model_quality"),
        ]

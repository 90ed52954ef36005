"""Version-aware monitoring through real runs: a champion monitor judges only the stable traffic
of the version that was champion at each window's end, a promotion re-baselines it on the new
version's reference, and the new version's drift and quality are judged on their own terms.

Data (`tests.detectors.quality_factories`): hour-long windows from `START`; the world shifts
by one SD on x1 ("moved") once version 1 starts to drift, and version 2 is fitted and referenced
on that moved world.
"""

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from detectors import PerformanceBaseline, PerformanceEstimator, estimate_performance
from monitor.entities.champion import ChampionSource
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import RegisteredModel
from monitor.scheduling import jobs
from monitor.versions.champion import record_champion
from tests.detectors.quality_factories import Sample, binary_sample, sigmoid
from tests.runs.quality_scenario import (
    MODEL,
    START,
    create_monitor,
    events,
    quality,
    register_model,
    run_windows,
    send_labels,
    send_window,
    upload_sample,
)

MOVED = (1.0, 0.0, 0.0)


def promote(engine: Engine, version: str, window: int) -> None:
    """`version` becomes champion at the start of window `window` (as a promotion records it)."""
    with Session(engine) as session:
        model = session.exec(select(RegisteredModel).where(RegisteredModel.name == MODEL)).one()
        since = START + timedelta(hours=window)
        record_champion(session, model, version, since=since, source=ChampionSource.ROLLOUT)
        session.commit()


def sharper(sample: Sample) -> Sample:
    """The same rows scored by a sharper, over-confident model (a retrained candidate)."""
    logits = np.log(sample.scores / (1.0 - sample.scores))
    return Sample(sample.features, sigmoid(2.5 * logits + 0.8), sample.labels)


def drift_events(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    every = events(client, headers, "")
    return [e for e in every if e["type"].startswith(("drift.", "monitor.rebaselined"))]


@pytest.fixture
def versioned(client: TestClient, admin: dict[str, str], database_url: str) -> TestClient:
    """Version 1 champion from the start, with its reference."""
    jobs.bind(database_url)
    register_model(client, admin, binary_sample(10_000, seed=31))
    return client


def test_champion_windows_hold_only_stable_records_during_a_canary(
    versioned: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    promote(engine, "1", 0)
    create_monitor(versioned, admin, hysteresis={"onset_after": 1, "resolve_after": 1})
    create_monitor(versioned, admin, name="canary-v2", model_version="2")
    stable = binary_sample(1_000, seed=40)
    canary = sharper(binary_sample(1_000, seed=41))
    send_window(versioned, admin, 0, stable, model_version="1", variant="stable")
    send_window(versioned, admin, 0, canary, model_version="2", variant="canary")

    [champion_run] = run_windows(versioned, admin, 1)
    [pinned_run] = run_windows(versioned, admin, 1, monitor="canary-v2")

    assert (champion_run["rows"], champion_run["model_version"]) == (1_000, "1")
    assert champion_run["drifted_features"] == 0
    assert not any(r["drifted"] for r in champion_run["results"] if r["role"] == "prediction")
    # The canary's outputs do differ: judged on their own (against the unversioned reference,
    # version 2 having none), they are prediction drift; mixed in, they would have paged.
    assert (pinned_run["rows"], pinned_run["model_version"]) == (1_000, "2")
    assert any(r["drifted"] for r in pinned_run["results"] if r["role"] == "prediction")
    assert [e for e in drift_events(versioned, admin) if e["data"].get("monitor") == "drift"] == []


def test_promotion_rebaselines_and_a_fresh_drift_is_caught_against_the_new_version(
    versioned: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    promote(engine, "1", 0)
    second = upload_sample(versioned, admin, sharper(binary_sample(10_000, 32, shift=MOVED)), "2")
    create_monitor(versioned, admin)  # onset after 2 windows, resolve after 2
    moved_again = (1.0, 1.0, 0.0)
    served = [("1", MOVED)] * 3 + [("2", MOVED)] * 2 + [("2", moved_again)] * 2
    for index, (version, shift) in enumerate(served):
        sample = binary_sample(1_000, seed=60 + index, shift=shift)
        sample = sharper(sample) if version == "2" else sample
        send_window(versioned, admin, index, sample, model_version=version, variant="stable")
    promote(engine, "2", 3)

    runs = run_windows(versioned, admin, len(served))

    assert [run["model_version"] for run in runs] == [v for v, _ in served]
    assert {run["reference_id"] for run in runs[3:]} == {second["id"]}
    kinds = [e["type"] for e in drift_events(versioned, admin)]
    assert kinds == [
        "drift.detected",
        "drift.ongoing",
        "monitor.rebaselined",
        "drift.resolved",
        "drift.detected",
    ]
    rebaselined, resolved, detected = drift_events(versioned, admin)[2:]
    assert rebaselined["data"]["old_version"] == "1"
    assert rebaselined["data"]["new_version"] == "2"
    assert rebaselined["data"]["reference_id"] == second["id"]
    assert resolved["data"]["reason"].startswith("baseline changed: version 2 replaced version 1")
    assert detected["data"]["model_version"] == "2"
    assert "x2" in detected["data"]["drifting"]
    assert "x1" not in detected["data"]["drifting"]  # version 2's baseline has x1 moved


def test_estimated_quality_after_promotion_uses_the_new_versions_calibration(
    versioned: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    promote(engine, "2", 0)
    upload_sample(versioned, admin, sharper(binary_sample(20_000, seed=33)), "2")
    create_monitor(versioned, admin)
    windows = [sharper(binary_sample(2_000, seed=70 + index)) for index in range(10)]
    for index, sample in enumerate(windows):
        ids = send_window(versioned, admin, index, sample, model_version="2")
        send_labels(versioned, admin, ids, sample.labels)

    runs = run_windows(versioned, admin, len(windows))

    assert {run["model_version"] for run in runs} == {"2"}
    rows = [r for r in quality(versioned, admin) if r["metric"] == "roc_auc"]
    assert {r["model_version"] for r in rows} == {"2"}
    errors = [abs(r["estimated"] - r["realized"]) for r in rows]
    stale = _error_with_version_1s_calibration(engine, windows, [r["realized"] for r in rows])
    figures = f"mean |estimated - realized| {np.mean(errors):.4f} (v1 calibration: {stale:.4f})"
    print(f"\nROC AUC over {len(rows)} windows of version 2: {figures}")
    assert np.mean(errors) <= 0.02, figures
    assert stale > 0.02, figures  # the old calibration would have misled: the test can fail


def _error_with_version_1s_calibration(
    engine: Engine, windows: list[Sample], realized: list[float]
) -> float:
    """Mean |estimated - realized| ROC AUC had version 2's scores gone through version 1's
    estimator (the unversioned reference, fitted on version 1's scores)."""
    with Session(engine) as session:
        unversioned = col(ReferenceDataset.model_version).is_(None)
        first = session.exec(select(ReferenceDataset).where(unversioned)).one()
        estimator = PerformanceEstimator.from_json(first.performance_estimator or "")
        baseline = PerformanceBaseline.from_json(first.performance_baseline or "")
    errors = []
    for sample, truth in zip(windows, realized, strict=True):
        scores = np.column_stack([1.0 - sample.scores, sample.scores])
        estimated = estimate_performance(estimator, baseline, scores).result("roc_auc").value
        errors.append(abs(estimated - truth))
    return float(np.mean(errors))


def test_a_promotion_closes_degraded_quality_because_its_baseline_changed(
    versioned: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    promote(engine, "1", 0)
    upload_sample(versioned, admin, binary_sample(10_000, seed=34), "2")
    create_monitor(versioned, admin)
    new_concept = np.array([0.0, -0.8, 0.5])
    served = [
        ("1", binary_sample(2_000, seed=80, weights=new_concept)),
        ("2", binary_sample(2_000, seed=81)),
    ]
    for index, (version, sample) in enumerate(served):
        ids = send_window(versioned, admin, index, sample, model_version=version)
        send_labels(versioned, admin, ids, sample.labels)
    promote(engine, "2", 1)

    run_windows(versioned, admin, len(served))

    kinds = [(e["type"], e["data"].get("reason", "")) for e in events(versioned, admin, "")]
    quality_events = [(k, r) for k, r in kinds if k.startswith(("model_quality.", "monitor."))]
    assert [k for k, _ in quality_events] == [
        "model_quality.degraded",
        "monitor.rebaselined",
        "model_quality.recovered",
    ]
    assert quality_events[-1][1].startswith("baseline changed: version 2 replaced version 1")

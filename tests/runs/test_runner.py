"""Runs queued through the API, executed as the scheduler would, and what they leave behind."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session

from monitor.entities.run import MonitorRun
from monitor.runs.runner import sweep_orphaned_runs
from monitor.scheduling import jobs
from monitor.windows import reader
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference

MODEL = "/api/v1/models/scored"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def scored(client: TestClient, admin: dict[str, str], database_url: str) -> TestClient:
    client.post("/api/v1/models", json=drift_model_payload(), headers=admin)
    jobs.bind(database_url)
    return client


def _upload_reference(client: TestClient, headers: dict[str, str]) -> None:
    upload_reference(client, headers, drift_frame(5_000, seed=1))


def _send(client: TestClient, headers: dict[str, str], rows: int, shifted: tuple[str, ...]) -> None:
    records = records_from(drift_frame(rows, seed=5, shifted=shifted), "r")
    for record in records:
        record["timestamp"] = (NOW - timedelta(minutes=30)).isoformat()
    client.post(f"{MODEL}/inferences", json={"records": records}, headers=headers)


def _monitor(client: TestClient, headers: dict[str, str], **settings: object) -> None:
    body = {"window": {"duration": "1h"}, "min_rows": 500, **settings}
    assert client.post(f"{MODEL}/monitors", json=body, headers=headers).status_code == 201


def _run_now(client: TestClient, headers: dict[str, str]) -> dict:
    queued = client.post(
        f"{MODEL}/monitors/drift/runs", json={"window_end": NOW.isoformat()}, headers=headers
    ).json()
    assert jobs.drain_queue() == 1
    return client.get(f"{MODEL}/runs/{queued['run_ids'][0]}", headers=headers).json()


def test_run_on_a_drifted_window_stores_results_and_quality(
    scored: TestClient, admin: dict[str, str]
) -> None:
    _upload_reference(scored, admin)
    _send(scored, admin, 2_000, shifted=("x2",))
    _monitor(scored, admin)
    run = _run_now(scored, admin)
    assert (run["status"], run["rows"], run["trigger"]) == ("succeeded", 2_000, "manual")
    drifted = {r["feature"] for r in run["results"] if r["drifted"]}
    assert drifted == {"x2"}
    assert {q["check"] for q in run["quality"]} >= {"missing", "out_of_range"}
    assert run["load_seconds"] >= 0 and run["compute_seconds"] > 0


def test_a_window_read_in_many_small_batches_gives_the_results_of_one_batch(
    scored: TestClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _upload_reference(scored, admin)
    frame = drift_frame(2_000, seed=5, shifted=("x2",))
    for part in range(4):  # four ingest requests: four segments
        records = records_from(frame.iloc[part * 500 : (part + 1) * 500], f"p{part}-")
        for record in records:
            record["timestamp"] = (NOW - timedelta(minutes=30)).isoformat()
        scored.post(f"{MODEL}/inferences", json={"records": records}, headers=admin)
    _monitor(scored, admin)
    whole = _run_now(scored, admin)
    monkeypatch.setattr(reader, "BATCH_ROWS", 1)  # every segment its own batch
    batched = _run_now(scored, admin)

    def figures(run: dict) -> list[tuple[object, ...]]:
        return [
            (r["feature"], r["test"], r["method"], r["drifted"], r["statistic"], r["p_value"])
            for r in run["results"]
        ]

    assert batched["rows"] == whole["rows"] == 2_000
    assert figures(batched) == figures(whole)
    assert batched["quality"] == whole["quality"]


def test_small_window_is_not_enough_data_and_leaves_the_state_alone(
    scored: TestClient, admin: dict[str, str]
) -> None:
    _upload_reference(scored, admin)
    _send(scored, admin, 100, shifted=("x2",))
    _monitor(scored, admin)
    run = _run_now(scored, admin)
    assert (run["status"], run["rows"], run["results"]) == ("not_enough_data", 100, [])
    assert scored.get(f"{MODEL}/drift", headers=admin).json()[0]["features"] == []


def test_run_without_a_reference_fails_with_the_fix_and_an_event(
    scored: TestClient, admin: dict[str, str]
) -> None:
    _monitor(scored, admin)
    run = _run_now(scored, admin)
    assert run["status"] == "failed"
    assert "upload one with POST /api/v1/models/scored/reference" in run["error"]
    events = scored.get("/api/v1/events", params={"type": "run.failed"}, headers=admin).json()
    assert events["data"][0]["data"]["run_id"] == run["id"]


def test_stored_report_is_evidently_html(scored: TestClient, admin: dict[str, str]) -> None:
    _upload_reference(scored, admin)
    _send(scored, admin, 1_000, shifted=())
    _monitor(scored, admin, store_report=True)
    run = _run_now(scored, admin)
    assert run["has_report"] is True
    page = scored.get(f"{MODEL}/runs/{run['id']}/report", headers=admin)
    assert page.headers["content-type"].startswith("text/html")
    assert "Drift" in page.text
    assert all(name in page.text for name in ("x0", "region", "device"))


def test_report_is_served_sandboxed_and_never_sniffed(
    scored: TestClient, admin: dict[str, str]
) -> None:
    _upload_reference(scored, admin)
    _send(scored, admin, 1_000, shifted=())
    _monitor(scored, admin, store_report=True)
    run = _run_now(scored, admin)
    page = scored.get(f"{MODEL}/runs/{run['id']}/report", headers=admin)
    assert page.headers["content-security-policy"].split()[0] == "sandbox"
    assert page.headers["x-content-type-options"] == "nosniff"


def test_backfill_queues_one_run_per_window(scored: TestClient, admin: dict[str, str]) -> None:
    _upload_reference(scored, admin)
    _monitor(scored, admin)
    reply = scored.post(
        f"{MODEL}/monitors/drift/backfill",
        json={"start": (NOW - timedelta(hours=6)).isoformat(), "end": NOW.isoformat()},
        headers=admin,
    )
    assert reply.json()["count"] == 6
    assert jobs.drain_queue() == 6
    runs = scored.get(f"{MODEL}/runs", params={"status": "not_enough_data"}, headers=admin).json()
    assert runs["count"] == 6
    ends = sorted(r["window_end"] for r in runs["data"])
    assert ends[-1] == NOW.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("step", ["\u00cf\u0012\u00d1\u00edj", "0h", "1 hour"])
def test_backfill_with_a_step_that_is_no_duration_is_refused_naming_it(
    scored: TestClient, admin: dict[str, str], step: str
) -> None:
    """Found by schemathesis: such a step answered 500."""
    _monitor(scored, admin)
    span = {"start": (NOW - timedelta(hours=6)).isoformat(), "end": NOW.isoformat()}
    reply = scored.post(
        f"{MODEL}/monitors/drift/backfill", json={**span, "step": step}, headers=admin
    )
    assert reply.status_code == 422, reply.text
    assert "step" in reply.text and "e.g." in reply.text


def test_orphaned_running_run_is_marked_failed(
    scored: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    _monitor(scored, admin)
    queued = scored.post(f"{MODEL}/monitors/drift/runs", headers=admin).json()
    stale = datetime.now(UTC) - timedelta(minutes=5)
    with Session(engine) as session:
        session.exec(
            update(MonitorRun).values(status="running", heartbeat_at=stale)  # type: ignore[call-overload]
        )
        session.commit()
    swept = sweep_orphaned_runs(
        engine, stale_after=timedelta(seconds=30), timeout=timedelta(hours=1)
    )
    assert swept == 1
    run = scored.get(f"{MODEL}/runs/{queued['run_ids'][0]}", headers=admin).json()
    assert run["status"] == "failed"
    assert run["error"].startswith("interrupted")


def test_monitor_with_unknown_test_is_refused_naming_drift(
    scored: TestClient, admin: dict[str, str]
) -> None:
    body = {"drift": {"tests": {"numerical": [{"name": "magic"}]}}}
    reply = scored.post(f"{MODEL}/monitors", json=body, headers=admin)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "drift"]


def test_monitor_schedule_needs_exactly_one_form(scored: TestClient, admin: dict[str, str]) -> None:
    body = {"schedule": {"every": "1h", "cron": "* * * * *"}}
    reply = scored.post(f"{MODEL}/monitors", json=body, headers=admin)
    assert reply.status_code == 422
    assert "exactly one" in reply.text


def test_statistic_series_follows_runs(scored: TestClient, admin: dict[str, str]) -> None:
    _upload_reference(scored, admin)
    _send(scored, admin, 2_000, shifted=("x2",))
    _monitor(scored, admin)
    _run_now(scored, admin)
    series = scored.get(f"{MODEL}/monitors/drift/series/x2", headers=admin).json()
    (point,) = series["points"]
    assert series["test"] == "ks"
    assert point["drifted"] is True
    assert point["value"] > point["threshold"]

"""The read endpoints the dashboard added to the API: the overview of every model, a monitor's
drift matrix, and a column's distributions, on both stores."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.dashboard.seed import current_hour
from tests.factories import drift_frame, drift_model_payload, records_from, upload_reference

WINDOWS = 3
ROWS = 400
TURN_MARGIN_S = 30  # longer than the fixture and a test take together


@pytest.fixture
def hour() -> datetime:
    """The current hour, read when the test starts: the overview buckets traffic by the hour
    it is read in. In the last seconds of an hour it waits for the next one to begin, so the
    hour cannot turn between writing the traffic and reading it."""
    left = (current_hour() + timedelta(hours=1) - datetime.now(UTC)).total_seconds()
    if left < TURN_MARGIN_S:
        time.sleep(left + 1)
    return current_hour()


def _traffic(
    client: TestClient, ingest: dict[str, str], model: str, index: int, hour: datetime
) -> None:
    shifted = ("x2", "region") if index == WINDOWS - 1 else ()
    records = records_from(drift_frame(ROWS, seed=20 + index, shifted=shifted), f"w{index}")
    start = hour - timedelta(hours=WINDOWS - index)
    for offset, record in enumerate(records):
        record["timestamp"] = (start + timedelta(seconds=5 * offset)).isoformat()
    reply = client.post(
        f"/api/v1/models/{model}/inferences", json={"records": records}, headers=ingest
    )
    assert reply.status_code == 202, reply.text


def _monitor_and_backfill(
    client: TestClient, admin: dict[str, str], model: str, hour: datetime
) -> None:
    body = {"min_rows": 50, "hysteresis": {"onset_after": 1, "resolve_after": 1}}
    assert client.post(f"/api/v1/models/{model}/monitors", json=body, headers=admin).is_success
    span = {"start": (hour - timedelta(hours=WINDOWS)).isoformat(), "end": hour.isoformat()}
    reply = client.post(f"/api/v1/models/{model}/monitors/drift/backfill", json=span, headers=admin)
    assert reply.status_code == 202, reply.text
    jobs.drain_queue()


@pytest.fixture
def monitored(
    client: TestClient,
    admin: dict[str, str],
    ingest: dict[str, str],
    database_url: str,
    hour: datetime,
) -> TestClient:
    """`scored`: three monitored hours, the last drifted in x2 and region; `broken`: a monitor
    but no reference, so its run fails; `idle`: registered, nothing else."""
    jobs.bind(database_url)
    for name in ("scored", "broken", "idle"):
        assert client.post(
            "/api/v1/models", json=drift_model_payload(name), headers=admin
        ).is_success
    upload_reference(client, admin, drift_frame(3000, seed=1), model="scored")
    for index in range(WINDOWS):
        _traffic(client, ingest, "scored", index, hour)
    _traffic(client, ingest, "broken", WINDOWS - 1, hour)
    _monitor_and_backfill(client, admin, "scored", hour)
    _monitor_and_backfill(client, admin, "broken", hour)
    return client


def test_overview_gives_each_model_its_health_last_run_and_hourly_traffic(
    monitored: TestClient, reader: dict[str, str], hour: datetime
) -> None:
    page = monitored.get("/api/v1/overview", headers=reader).json()
    models = {model["name"]: model for model in page["data"]}
    assert page["count"] == 3 and page["traffic_hours"] == 24
    scored, broken, idle = models["scored"], models["broken"], models["idle"]
    assert (scored["health"], scored["open_alerts"]) == ("drifting", 1)
    assert scored["last_run"]["window_end"].startswith(hour.strftime("%Y-%m-%dT%H:%M"))
    assert scored["traffic"][-WINDOWS - 1 :] == [ROWS] * WINDOWS + [0]
    assert broken["health"] == "failing"
    assert broken["last_run"]["status"] == "failed"
    assert (idle["health"], idle["last_run"], sum(idle["traffic"])) == ("no_data", None, 0)


def test_overview_pages_through_models_by_name(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    page = monitored.get("/api/v1/overview?offset=1&limit=1&hours=6", headers=reader).json()
    assert [model["name"] for model in page["data"]] == ["idle"]
    assert page["count"] == 3 and len(page["data"][0]["traffic"]) == 6


def test_model_names_page_alphabetically_without_the_schemas(
    client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    for name in ("pricing", "churn", "fraud"):
        assert client.post("/api/v1/models", json=drift_model_payload(name), headers=admin)
    page = client.get("/api/v1/overview/model-names?offset=1&limit=1", headers=reader).json()
    assert page == {"data": ["fraud"], "count": 3}
    every = client.get("/api/v1/overview/model-names", headers=reader).json()
    assert every["data"] == ["churn", "fraud", "pricing"]


def test_overview_needs_a_read_key(monitored: TestClient) -> None:
    assert monitored.get("/api/v1/overview").status_code == 401


def test_drift_matrix_lists_columns_by_window_oldest_first(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    matrix = monitored.get(
        "/api/v1/models/scored/monitors/drift/drift-matrix", headers=reader
    ).json()
    assert len(matrix["windows"]) == WINDOWS
    ends = [window["window_end"] for window in matrix["windows"]]
    assert ends == sorted(ends)
    rows = {row["feature"]: row for row in matrix["rows"]}
    assert rows["x2"]["drifted"] == [False, False, True]
    assert rows["x1"]["drifted"] == [False, False, False]
    assert rows["region"]["role"] == "feature" and rows["prediction"]["role"] == "prediction"
    assert all(len(row["values"]) == WINDOWS for row in matrix["rows"])
    # What decided each verdict beside the effect size, for the heat map's hover.
    x2 = rows["x2"]
    assert x2["adjusted_p_values"][-1] < x2["p_value_thresholds"][-1] == 0.01
    assert x2["p_values"][-1] <= x2["adjusted_p_values"][-1] and x2["sample_sizes"][-1] > 0


def test_drift_matrix_of_an_unknown_monitor_is_404(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    reply = monitored.get("/api/v1/models/scored/monitors/nope/drift-matrix", headers=reader)
    assert reply.status_code == 404


def test_numerical_distribution_compares_bins_and_cdfs_with_the_runs_ks(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    shown = monitored.get(
        "/api/v1/models/scored/monitors/drift/distributions/x2", headers=reader
    ).json()
    [latest] = shown["windows"]
    assert latest["n"] == ROWS and shown["n_reference"] == 3000
    assert shown["bins"][0].startswith("< ") and shown["bins"][-1].startswith("> ")
    assert sum(shown["reference"]) == pytest.approx(1.0)
    assert sum(latest["shares"]) == pytest.approx(1.0)
    run = monitored.get(f"/api/v1/models/scored/runs/{latest['run_id']}", headers=reader).json()
    stored = next(r for r in run["results"] if r["feature"] == "x2" and r["test"] == "ks")
    assert shown["cdf"]["ks_distance"] == pytest.approx(stored["statistic"], abs=0.01)


def test_categorical_distribution_gives_category_shares_per_window(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    shown = monitored.get(
        "/api/v1/models/scored/monitors/drift/distributions/region?windows=5", headers=reader
    ).json()
    assert shown["kind"] == "categorical" and shown["cdf"] is None
    assert shown["bins"] == ["apac", "eu", "us"]
    shares = [dict(zip(shown["bins"], w["shares"], strict=True)) for w in shown["windows"]]
    assert len(shares) == WINDOWS
    assert shares[0]["eu"] > 0.4 and shares[-1]["eu"] < 0.3  # the last window moved off eu


def test_distribution_of_an_unknown_column_names_the_columns(
    monitored: TestClient, reader: dict[str, str]
) -> None:
    reply = monitored.get("/api/v1/models/scored/monitors/drift/distributions/x9", headers=reader)
    assert reply.status_code == 404
    assert "x9" in reply.text and "score[1]" in reply.text

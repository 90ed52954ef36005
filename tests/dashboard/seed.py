"""Putting a running `monitor serve` into a state worth looking at, through its API: models with
references, monitored traffic that drifts, runs, events and their deliveries, a retraining run
and a canary rollout."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.server import MonitorServer, bearer
from tests.factories import drift_frame, drift_model_payload, parquet_body, records_from
from triggers.notifications.webhook import new_secret

WINDOWS = 4
ROWS_PER_WINDOW = 300
SETTLE_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Keys:
    admin: str
    ingest: str
    read: str


def wait_for(what: str, check: Callable[[], bool], timeout: float = SETTLE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.25)


def _ok(reply: httpx.Response) -> Any:
    assert reply.status_code < 300, f"{reply.request.method} {reply.request.url}: {reply.text}"
    return reply.json() if reply.content else None


def register_model(client: httpx.Client, keys: Keys, name: str) -> None:
    _ok(client.post("/api/v1/models", json=drift_model_payload(name), headers=bearer(keys.admin)))
    _ok(
        client.post(
            f"/api/v1/models/{name}/reference",
            content=parquet_body(drift_frame(2000, seed=1)),
            headers={**bearer(keys.admin), "content-type": "application/x-parquet"},
        )
    )


def log_drifting_traffic(client: httpx.Client, keys: Keys, name: str, hour: datetime) -> None:
    """`WINDOWS` hours of traffic before `hour`; the last two hours shifted in x0 and region."""
    for index in range(WINDOWS):
        start = hour - timedelta(hours=WINDOWS - index)
        shifted = ("x0", "region") if index >= WINDOWS - 2 else ()
        records = records_from(
            drift_frame(ROWS_PER_WINDOW, seed=10 + index, shifted=shifted), f"{name}-{index}"
        )
        for offset, record in enumerate(records):
            record["timestamp"] = (start + timedelta(seconds=10 * offset)).isoformat()
        _ok(
            client.post(
                f"/api/v1/models/{name}/inferences",
                json={"records": records},
                headers=bearer(keys.ingest),
            )
        )


def monitor_past_windows(client: httpx.Client, keys: Keys, name: str, hour: datetime) -> None:
    """A monitor keeping Evidently reports, backfilled over the logged hours, run to the end."""
    _ok(
        client.post(
            f"/api/v1/models/{name}/monitors",
            json={"name": "drift", "min_rows": 50, "store_report": True},
            headers=bearer(keys.admin),
        )
    )
    start = hour - timedelta(hours=WINDOWS)
    _ok(
        client.post(
            f"/api/v1/models/{name}/monitors/drift/backfill",
            json={"start": start.isoformat(), "end": hour.isoformat(), "step": "1h"},
            headers=bearer(keys.admin),
        )
    )

    def finished() -> bool:
        runs = _ok(client.get(f"/api/v1/models/{name}/runs", headers=bearer(keys.read)))
        return all(run["status"] not in ("queued", "running") for run in runs["data"])

    wait_for(f"the runs of {name}", finished)


def add_webhook_channel(client: httpx.Client, keys: Keys, url: str) -> None:
    body = {
        "name": "ops-webhook",
        "kind": "webhook",
        "grouping": {
            "group_wait_seconds": 0,
            "group_interval_seconds": 0,
            "repeat_interval_seconds": 0,
        },
        "secrets": {"url": url, "signing_secret": new_secret()},
    }
    _ok(client.post("/api/v1/channels", json=body, headers=bearer(keys.admin)))


def wait_for_delivery(client: httpx.Client, keys: Keys) -> None:
    def delivered() -> bool:
        page = _ok(
            client.get(
                "/api/v1/deliveries", params={"status": "delivered"}, headers=bearer(keys.read)
            )
        )
        return bool(page["count"])

    wait_for("a delivered notification", delivered)


def retrain(client: httpx.Client, keys: Keys, name: str) -> None:
    """A command pipeline run by hand; it prints and fails (it logs no model), leaving logs."""
    pipeline = {
        "kind": "command",
        "command": "echo 'fitting gradient boosting on the export'; exit 3",
        "policy": {"enabled": False},
    }
    _ok(client.put(f"/api/v1/models/{name}/pipeline", json=pipeline, headers=bearer(keys.admin)))
    _ok(client.post(f"/api/v1/models/{name}/retraining/runs", headers=bearer(keys.admin)))

    def finished() -> bool:
        runs = _ok(client.get(f"/api/v1/models/{name}/retraining/runs", headers=bearer(keys.read)))
        return all(run["status"] not in ("queued", "running") for run in runs["data"])

    wait_for(f"the retraining run of {name}", finished)


def start_rollout(client: httpx.Client, keys: Keys, name: str) -> dict[str, Any]:
    """Two endpoints and a rollout baking its first step for an hour (no traffic reaches it)."""
    for endpoint, version in (("blue", "1"), ("green", "2")):
        body = {
            "name": endpoint,
            "url": f"http://127.0.0.1:9/{endpoint}",
            "protocol": "mlflow",
            "accelerator": "cpu",
            "model_version": version,
            "v2_model_name": None,
        }
        _ok(client.post(f"/api/v1/models/{name}/endpoints", json=body, headers=bearer(keys.admin)))
    body = {"candidate_endpoint": "green", "candidate_version": "2", "bake_seconds": 3600}
    rollout: dict[str, Any] = _ok(
        client.post(f"/api/v1/models/{name}/rollouts", json=body, headers=bearer(keys.admin))
    )
    return rollout


def current_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def create_keys(server: MonitorServer) -> Keys:
    return Keys(
        admin=server.create_key("admin"),
        ingest=server.create_key("ingest"),
        read=server.create_key("read"),
    )

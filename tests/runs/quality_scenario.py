"""The model-quality scenarios through the API: a binary model on the features of
`tests.detectors.quality_factories`, hour-long windows from `START`, labels sent when a test says.

Window `i` holds the records timestamped in [START + i h, START + (i + 1) h); runs are queued by
backfill and executed as the scheduler executes them (`jobs.drain_queue`).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from monitor.scheduling import jobs
from tests.detectors.quality_factories import FEATURES, Sample
from tests.factories import upload_reference

MODEL = "quality"
URL = f"/api/v1/models/{MODEL}"
START = datetime(2026, 11, 23, tzinfo=UTC)


def window_start(index: int) -> str:
    return (START + timedelta(hours=index)).isoformat()


def register_model(client: TestClient, headers: dict[str, str], reference: Sample) -> None:
    """The model, and its reference with the model's scores and the labels."""
    features = [{"name": name, "kind": "numerical"} for name in FEATURES]
    body = {"name": MODEL, "task": "binary_classification", "features": features}
    assert client.post("/api/v1/models", json=body, headers=headers).status_code == 201
    upload_sample(client, headers, reference)


def upload_sample(
    client: TestClient, headers: dict[str, str], reference: Sample, version: str | None = None
) -> dict[str, Any]:
    """`reference` (features, scores, labels) as the reference of `version`."""
    frame = reference.features.assign(
        prediction=reference.scores, label=reference.labels.astype(str)
    )
    return upload_reference(client, headers, frame, model=MODEL, model_version=version)


def create_monitor(client: TestClient, headers: dict[str, str], **settings: Any) -> None:
    body = {"window": {"duration": "1h"}, "min_rows": 500, **settings}
    reply = client.post(f"{URL}/monitors", json=body, headers=headers)
    assert reply.status_code == 201, reply.text


def send_window(
    client: TestClient,
    headers: dict[str, str],
    index: int,
    sample: Sample,
    **served_by: str,
) -> list[str]:
    """Log the sample's rows as window `index`'s records, with `served_by`'s `model_version`
    and `variant` where given; returns their request ids."""
    rows = len(sample.scores)
    start = START + timedelta(hours=index)
    tag = "-".join(served_by.values())
    ids = [f"w{index}{tag}-{row}" for row in range(rows)]
    features = sample.features.to_dict("records")
    records = [
        {
            "request_id": ids[row],
            "timestamp": (start + timedelta(seconds=row * 3_000 / rows)).isoformat(),
            "features": features[row],
            "prediction": float(sample.scores[row]),
            **served_by,
        }
        for row in range(rows)
    ]
    reply = client.post(f"{URL}/inferences", json={"records": records}, headers=headers)
    assert reply.json()["accepted"] == rows, reply.text
    return ids


def send_labels(
    client: TestClient, headers: dict[str, str], ids: list[str], labels: np.ndarray[Any, Any]
) -> None:
    body = {
        "labels": [{"request_id": i, "label": int(y)} for i, y in zip(ids, labels, strict=True)]
    }
    assert client.post(f"{URL}/labels", json=body, headers=headers).status_code == 202


def run_windows(
    client: TestClient, headers: dict[str, str], count: int, monitor: str = "drift"
) -> list[dict[str, Any]]:
    """Run `monitor` over windows 0 .. count - 1, oldest first; returns the run details."""
    end = START + timedelta(hours=count)
    reply = client.post(
        f"{URL}/monitors/{monitor}/backfill",
        json={"start": START.isoformat(), "end": end.isoformat()},
        headers=headers,
    )
    assert reply.status_code == 202, reply.text
    assert jobs.drain_queue() == count
    return [client.get(f"{URL}/runs/{i}", headers=headers).json() for i in reply.json()["run_ids"]]


def quality(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    reply = client.get(f"{URL}/quality", params={"monitor": "drift"}, headers=headers)
    assert reply.status_code == 200, reply.text
    data: list[dict[str, Any]] = reply.json()["data"]
    return data


def window_metric(rows: list[dict[str, Any]], index: int, metric: str) -> dict[str, Any]:
    start = window_start(index).replace("+00:00", "Z")
    return next(r for r in rows if r["window_start"] == start and r["metric"] == metric)


def events(client: TestClient, headers: dict[str, str], prefix: str) -> list[dict[str, Any]]:
    """The model's events whose type starts with `prefix`, oldest first."""
    reply = client.get("/api/v1/events", params={"model": MODEL, "limit": 1000}, headers=headers)
    return [e for e in reversed(reply.json()["data"]) if e["type"].startswith(prefix)]

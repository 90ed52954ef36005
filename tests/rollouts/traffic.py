"""Builders of rollout traffic: a small scored model, and inference records of each variant as
a sidecar would log them (variant, version, latency, status), sent through the API."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

FEATURES = ["x0", "x1", "x2"]


def model_payload(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "task": "binary_classification",
        "features": [{"name": n, "kind": "numerical"} for n in FEATURES],
    }


def feature_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: rng.normal(size=rows) for name in FEATURES})


def labelled_frame(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = feature_frame(rows, seed)
    noise = np.random.default_rng(seed + 1).normal(0, 0.5, rows)
    return frame, np.where(frame["x0"] + noise > 0, "1", "0")


def variant_records(
    variant: str,
    version: str,
    count: int,
    at: datetime,
    *,
    seed: int,
    error_share: float = 0.0,
    shift: float = 0.0,
    latency_ms: float = 20.0,
) -> list[dict[str, Any]]:
    """`count` requests served from `at` on, one millisecond apart; `error_share` of them
    failed (status 500, no prediction); `shift` is added to every score."""
    rng = np.random.default_rng(seed)
    frame = feature_frame(count, seed)
    scores = np.clip(1 / (1 + np.exp(-frame["x0"].to_numpy())) + shift, 0.001, 0.999)
    failed = rng.random(count) < error_share
    records = []
    for i, (features, score) in enumerate(zip(frame.to_dict("records"), scores, strict=True)):
        records.append(
            {
                "request_id": uuid.uuid4().hex,
                "timestamp": (at + timedelta(milliseconds=i)).isoformat(),
                "variant": variant,
                "model_version": version,
                "features": features,
                "prediction": None if failed[i] else float(score),
                "latency_ms": float(rng.normal(latency_ms, latency_ms / 10)),
                "status_code": 500 if failed[i] else 200,
            }
        )
    return records


def send(
    client: TestClient, headers: dict[str, str], model: str, records: list[dict[str, Any]]
) -> None:
    reply = client.post(
        f"/api/v1/models/{model}/inferences", json={"records": records}, headers=headers
    )
    assert reply.status_code == 202, reply.text


def labels_for(records: list[dict[str, Any]], *, wrong_share: float, seed: int) -> dict[str, Any]:
    """A labels batch for the served `records`: the predicted class, except for `wrong_share`
    of them, whose label is the other class."""
    rng = np.random.default_rng(seed)
    labels = []
    for record in records:
        if record["prediction"] is None:
            continue
        predicted = record["prediction"] >= 0.5
        wrong = rng.random() < wrong_share
        labels.append({"request_id": record["request_id"], "label": str(int(predicted != wrong))})
    return {"labels": labels}

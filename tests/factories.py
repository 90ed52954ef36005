"""Builders of request payloads, so tests say only what matters to them."""

import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

NUMERICAL = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(4)]


def model_payload(name: str = "churn", **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "task": "binary_classification",
        "features": [
            {"name": "age", "kind": "numerical"},
            {"name": "plan", "kind": "categorical", "nullable": True},
            {"name": "vip", "kind": "boolean"},
        ],
    }
    payload.update(overrides)
    return payload


def wide_model_payload(name: str = "wide") -> dict[str, Any]:
    """The benchmark's shape: 20 numerical and 4 categorical features."""
    features = [{"name": n, "kind": "numerical"} for n in NUMERICAL]
    features += [{"name": n, "kind": "categorical"} for n in CATEGORICAL]
    return {"name": name, "task": "binary_classification", "features": features}


def record(request_id: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "request_id": request_id,
        "timestamp": "2026-11-23T12:00:00Z",
        "features": {"age": 41, "plan": "pro", "vip": False},
        "prediction": 0.73,
    }
    payload.update(overrides)
    return payload


def batch(start: int, count: int, prefix: str = "req") -> dict[str, Any]:
    return {"records": [record(f"{prefix}-{i}") for i in range(start, start + count)]}


def wide_record(request_id: str, i: int) -> dict[str, Any]:
    features: dict[str, Any] = {n: (i * 7 + k) % 101 / 10 for k, n in enumerate(NUMERICAL)}
    features.update({n: f"c{(i + k) % 5}" for k, n in enumerate(CATEGORICAL)})
    return {"request_id": request_id, "features": features, "prediction": (i % 100) / 100}


DRIFT_NUMERICAL = [f"x{i}" for i in range(6)]
DRIFT_CATEGORICAL = ["region", "device"]


def drift_model_payload(name: str = "scored") -> dict[str, Any]:
    """A small model for drift scenarios: six numerical and two categorical features."""
    features = [{"name": n, "kind": "numerical"} for n in DRIFT_NUMERICAL]
    features += [{"name": n, "kind": "categorical"} for n in DRIFT_CATEGORICAL]
    return {"name": name, "task": "binary_classification", "features": features}


def drift_frame(rows: int, seed: int, shifted: tuple[str, ...] = ()) -> pd.DataFrame:
    """Reference-like data; each feature named in `shifted` moves by one standard deviation
    (numerical) or has its most common category share cut from 50% to 20% (categorical)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({n: rng.normal(0.0, 1.0, rows) for n in DRIFT_NUMERICAL})
    frame["region"] = rng.choice(["eu", "us", "apac"], rows, p=[0.5, 0.3, 0.2])
    frame["device"] = rng.choice(["ios", "android", "web"], rows, p=[0.4, 0.4, 0.2])
    for name in shifted:
        if name in DRIFT_NUMERICAL:
            frame[name] += 1.0
        else:
            frame[name] = rng.choice(["eu", "us", "apac"], rows, p=[0.2, 0.3, 0.5])
    frame["prediction"] = 1.0 / (1.0 + np.exp(-frame["x0"].to_numpy()))
    return frame


def records_from(frame: pd.DataFrame, prefix: str) -> list[dict[str, Any]]:
    features = frame.drop(columns=["prediction"]).to_dict("records")
    return [
        {"request_id": f"{prefix}-{i}", "features": f, "prediction": float(p)}
        for i, (f, p) in enumerate(zip(features, frame["prediction"], strict=True))
    ]


def parquet_body(frame: pd.DataFrame) -> bytes:
    """A frame as the raw body of a Parquet reference upload."""
    sink = io.BytesIO()
    frame.to_parquet(sink)
    return sink.getvalue()


def upload_reference(
    client: "TestClient",
    headers: dict[str, str],
    frame: pd.DataFrame,
    model: str = "scored",
    model_version: str | None = None,
) -> dict[str, Any]:
    """Upload `frame` as the reference (of `model_version`, when given); returns the answer."""
    reply = client.post(
        f"/api/v1/models/{model}/reference",
        content=parquet_body(frame),
        headers={**headers, "content-type": "application/x-parquet"},
        params={"model_version": model_version} if model_version else None,
    )
    assert reply.status_code == 201, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def endpoint_payload(name: str, **overrides: Any) -> dict[str, Any]:
    """A serving endpoint: MLflow scoring on the CPU at a loopback address."""
    payload: dict[str, Any] = {"name": name, "url": "http://127.0.0.1:9001", "protocol": "mlflow"}
    payload.update(overrides)
    return payload


def rollout_payload(candidate: str = "green", **overrides: Any) -> dict[str, Any]:
    """A rollout of version 2 on `candidate` with the default steps."""
    payload: dict[str, Any] = {"candidate_endpoint": candidate, "candidate_version": "2"}
    payload.update(overrides)
    return payload


def correlated_frame(rows: int, correlation: float, seed: int) -> pd.DataFrame:
    """x1, x2 ~ N(0, 1) with the given correlation (their marginals never change), x3 ~ Gamma(2)
    and `plan` independent; the prediction is a score of x1 alone, so it keeps its distribution
    whatever the correlation."""
    rng = np.random.default_rng(seed)
    x1, noise = rng.normal(size=rows), rng.normal(size=rows)
    return pd.DataFrame(
        {
            "x1": x1,
            "x2": correlation * x1 + np.sqrt(1 - correlation**2) * noise,
            "x3": rng.gamma(2.0, size=rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1]),
            "prediction": 1.0 / (1.0 + np.exp(-x1)),
        }
    )

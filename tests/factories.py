"""Builders of request payloads, so tests say only what matters to them."""

from typing import Any

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

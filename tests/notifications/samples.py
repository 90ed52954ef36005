"""Event envelopes as `GET /api/v1/events` shows them, for payload tests."""

from typing import Any

from triggers.notifications import Notification, Phase

DRIFT_RESULTS = [
    {
        "column": "x1",
        "role": "feature",
        "test": "psi",
        "statistic": 0.4213,
        "threshold": 0.2,
        "p_value": 3.1e-05,
        "drifted": True,
    },
    {
        "column": "region",
        "role": "feature",
        "test": "chi_squared",
        "statistic": 0.31,
        "threshold": 0.1,
        "p_value": None,
        "drifted": True,
    },
]


def envelope(type: str = "drift.detected", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "evt_0123456789abcdef0123456789abcdef",
        "type": type,
        "time": "2026-11-23T12:00:00Z",
        "model": "churn",
        "severity": "critical",
        "dedup_key": "churn/drift",
        "data": {
            "monitor": "drift",
            "run_id": 7,
            "window": {"start": "2026-11-23T11:00:00Z", "end": "2026-11-23T12:00:00Z"},
            "rows": 2000,
            "drifting": ["region", "x1"],
            "results": DRIFT_RESULTS,
        },
        "dashboard_url": "http://127.0.0.1:8000/dashboard/models/churn",
    }
    body.update(overrides)
    return body


def notification(
    type: str = "drift.detected", phase: Phase = Phase.FIRING, **overrides: Any
) -> Notification:
    return Notification(envelope(type, **overrides), phase)

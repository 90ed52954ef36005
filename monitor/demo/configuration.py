"""What the demo configures: the model's monitors, its retraining pipeline, the alert channel
and the serving endpoints."""

from typing import Any

from monitor.demo import champion
from monitor.demo.data import MODEL
from monitor.demo.receiver import WebhookReceiver

KEY_SCOPES = ("admin", "ingest", "read")
# Drift is watched by a quick monitor; a slower one explains it (SHAP attributions of the
# champion, an Evidently report per run) for the dashboard, without delaying the alert.
MONITORS: list[dict[str, Any]] = [
    {
        "name": "drift",
        "schedule": {"every": "3s"},
        "window": {"last_records": 240},
        "min_rows": 120,
        "hysteresis": {"onset_after": 2, "resolve_after": 3},
    },
    {
        "name": "explain",
        "schedule": {"every": "20s"},
        "window": {"last_records": 240},
        "min_rows": 120,
        "hysteresis": {"onset_after": 1, "resolve_after": 3},
        "shap_sample_size": 120,
        "explain_model_uri": f"models:/{MODEL}@champion",
        "store_report": True,
        "quality": {"enabled": False},
    },
]
PIPELINE: dict[str, Any] = {
    "kind": "python",
    "entry_point": champion.PIPELINE,
    "timeout": "5m",
    # Long enough to keep one drift from starting two runs, short enough to heal a second.
    "cooldown": "30s",
    # The quick monitor raises the alarm; the explaining one only explains.
    "policy": {"event_types": ["drift.detected"], "min_severity": "warning", "monitors": ["drift"]},
    "training_window": {"last_records": 600},
    "parameters": {"estimator": "linear"},
    # A recalibrated scanner moves the threshold the model needs more than its ranking, so the
    # gate judges what drift costs here: accuracy and log loss (ROC AUC can stay high).
    "gate": {
        "holdout_fraction": 0.3,
        "min_holdout_rows": 30,
        "rules": [
            {"metric": "accuracy", "rule": "no_worse_than", "threshold": 0.01},
            {"metric": "log_loss", "rule": "no_worse_than", "threshold": 0.02},
        ],
    },
}


def channel(receiver: WebhookReceiver) -> dict[str, Any]:
    return {
        "name": "on-call",
        "kind": "webhook",
        "filters": {"event_types": ["drift.detected", "rollout.promoted", "rollout.rolled_back"]},
        "grouping": {"group_wait_seconds": 0, "group_interval_seconds": 0},
        "secrets": {"url": receiver.url, "signing_secret": receiver.secret},
    }


def endpoint(version: str, url: str) -> dict[str, Any]:
    return {
        "name": f"{MODEL}-v{version}",
        "url": url,
        "protocol": "mlflow",
        "accelerator": "cpu",
        "model_version": version,
    }

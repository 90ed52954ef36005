"""What a pipeline is given: the context document (model, trigger, window, drifted features,
training data, MLflow target, parameters) and, for local pipelines, its environment."""

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.entities.event import Event
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import RetrainingRun
from monitor.retraining.export import LABEL, SOURCE, ExportSummary
from triggers.retraining import CONTEXT_ENV, RESULT_ENV

CONTEXT_VERSION = 1
CONTEXT_FILE = "context.json"
RESULT_FILE = "result.json"
LOG_FILE = "pipeline.log"


@dataclass(frozen=True, slots=True)
class MlflowTarget:
    tracking_uri: str
    experiment_id: str
    experiment_name: str
    registered_model: str


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def pipeline_context(
    *,
    run: RetrainingRun,
    model: RegisteredModel,
    event: Event | None,
    export: ExportSummary,
    mlflow: MlflowTarget,
    training_data_url: str | None,
) -> dict[str, Any]:
    """The context document (see docs/retraining.md): plain JSON, so a pipeline needs nothing
    of this project to read it."""
    event_data = event.data if event is not None else {}
    return {
        "version": CONTEXT_VERSION,
        "run_id": run.id,
        "model": {
            "name": model.name,
            "task": model.task,
            "features": model.features,
            "class_labels": model.class_labels,
        },
        "trigger": {
            "kind": run.trigger,
            "event": None
            if event is None
            else {
                "id": event.uid,
                "type": event.type,
                "severity": event.severity,
                "time": event.time.isoformat(),
                "data": event.data,
            },
        },
        "drift_window": event_data.get("window"),
        "drifted_features": list(event_data.get("drifting", [])),
        "data": {
            "format": "parquet",
            "training": str(export.training_path),
            "url": training_data_url,
            "label_column": LABEL,
            "source_column": SOURCE,
            "window": {"start": _iso(export.window.start), "end": _iso(export.window.end)},
            "rows": {
                "reference": export.rows_reference,
                "production": export.rows_production,
                "held_out": export.rows_holdout,
            },
        },
        "mlflow": {
            "tracking_uri": mlflow.tracking_uri,
            "experiment_id": mlflow.experiment_id,
            "experiment_name": mlflow.experiment_name,
            "registered_model": mlflow.registered_model,
        },
        "parameters": run.parameters,
        "result_path": str(export.directory / RESULT_FILE),
    }


def pipeline_environment(
    *,
    inherited: Sequence[str],
    extra: Mapping[str, str],
    directory: Path,
    mlflow: MlflowTarget,
    run_id: int,
) -> dict[str, str]:
    """The `inherited` variables of the control plane's environment (never its `MONITOR_*`
    settings, which may hold database credentials), plus the pipeline's variables and where to
    find the context."""
    env = {
        name: os.environ[name]
        for name in inherited
        if name in os.environ and not name.startswith("MONITOR_")
    }
    env.update(extra)
    env.update(
        {
            CONTEXT_ENV: str(directory / CONTEXT_FILE),
            RESULT_ENV: str(directory / RESULT_FILE),
            "MONITOR_RETRAIN_RUN_ID": str(run_id),
            "MLFLOW_TRACKING_URI": mlflow.tracking_uri,
            "MLFLOW_EXPERIMENT_ID": mlflow.experiment_id,
        }
    )
    return env

"""Version 1 of the demo model: trained on the reference rows with the project's example pipeline,
registered in MLflow and given the `@champion` alias."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient

from monitor.demo.data import MODEL, feature_names, reference_rows, training_rows

REPOSITORY = Path(__file__).resolve().parents[2]
PIPELINE = "examples.retrain_sklearn:train"


class DemoError(RuntimeError):
    """The demo cannot go on; the message says why and what to do."""


def repository_root() -> Path:
    """The clone the demo runs from: its example pipeline trains both the champion and, when the
    drift alert fires, the challenger."""
    if not (REPOSITORY / "examples" / "retrain_sklearn.py").is_file():
        raise DemoError(
            "monitor demo runs from a clone of the repository (it uses "
            "examples/retrain_sklearn.py); install it with `pip install -e .` from the clone"
        )
    return REPOSITORY


def train_champion(frame: pd.DataFrame, tracking_uri: str, artifacts: Path) -> str:
    """Fit on the training rows, log to MLflow, register, alias `@champion`; the version."""
    root = str(repository_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    from examples.retrain_sklearn import build_model, log_model

    training = training_rows(frame)
    names = feature_names(frame)
    features = [{"name": name, "kind": "numerical"} for name in names]
    model = build_model(features, "binary_classification", "linear", seed=0)
    model.fit(training[names], training["label"])
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    experiment = client.create_experiment("demo-champion", artifact_location=artifacts.as_uri())
    # Registration resolves the logged model through the process's tracking URI.
    with _tracking(tracking_uri):
        with mlflow.start_run(experiment_id=experiment, run_name="champion"):
            info = log_model(model, training[names])
        client.create_registered_model(MODEL, description="Breast-cancer screening (monitor demo)")
        version = client.create_model_version(MODEL, info.model_uri, model_id=info.model_id)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    return str(version.version)


def reference_frame(frame: pd.DataFrame, tracking_uri: str, version: str) -> pd.DataFrame:
    """The held-out reference rows with the champion's scores (`prediction`, the positive class's
    probability) and their labels, as the control plane expects them."""
    with _tracking(tracking_uri):
        model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{version}")
    reference = reference_rows(frame).copy()
    scores = model.predict(reference[feature_names(frame)])
    reference["prediction"] = [float(row[1]) for row in scores]
    return reference


@contextmanager
def _tracking(uri: str) -> Iterator[None]:
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)

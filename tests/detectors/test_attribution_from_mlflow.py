"""Models for attribution drift loaded from MLflow URIs (triggers.mlflow_models)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from sklearn.ensemble import GradientBoostingClassifier

from detectors.attribution import AttributionBaseline, ExplainerSettings, attribution_drift
from triggers.mlflow_models import load_explainable_model

FEATURES = ["a", "b", "c"]


class ScoreModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> np.ndarray:
        return np.asarray(2 * model_input["a"] + model_input["b"])


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("mlflow")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    artifacts = (folder / "artifacts").as_uri()
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("attribution", artifacts))
    yield folder
    mlflow.set_tracking_uri(previous)


def training_frame() -> tuple[pd.DataFrame, np.ndarray]:
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 3)), columns=FEATURES)
    return frame, (frame["a"] > 0).astype(int).to_numpy()


def test_registered_sklearn_model_loads_by_alias_as_a_tree_model(tracking: Path) -> None:
    frame, labels = training_frame()
    model = GradientBoostingClassifier(n_estimators=10, random_state=0).fit(frame, labels)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name="churn",
            skops_trusted_types=["sklearn.tree._tree.Tree"],
        )
    MlflowClient().set_registered_model_alias("churn", "champion", "1")
    loaded = load_explainable_model("models:/churn@champion")
    baseline = AttributionBaseline.fit(loaded, frame, ExplainerSettings(sample_size=100))
    assert isinstance(loaded, GradientBoostingClassifier) and baseline.explainer == "tree"


def test_pyfunc_model_loads_as_a_predict_callable(tracking: Path) -> None:
    frame, _ = training_frame()
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="scorer", python_model=ScoreModel(), input_example=frame[:2])
    predict = load_explainable_model(f"runs:/{run.info.run_id}/scorer")
    settings = ExplainerSettings(sample_size=20, background_size=10)
    baseline = AttributionBaseline.fit(predict, frame, settings)
    result = attribution_drift(baseline, predict, frame)
    assert (baseline.explainer, baseline.ranking[0], result.drifted) == ("permutation", "a", False)

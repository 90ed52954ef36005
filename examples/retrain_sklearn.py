"""An example retraining pipeline: trains a scikit-learn model on the monitor's training export
and logs it to MLflow with a signature.

As a `python` pipeline (run from the project folder, or set `working_dir` to it):

    {"kind": "python", "entry_point": "examples.retrain_sklearn:train"}

As a `command` pipeline:

    {"kind": "command", "command": "python examples/retrain_sklearn.py"}

It needs nothing of the monitor: it reads the context JSON it is given (see docs/retraining.md)
and returns (or, as a command, writes to $MONITOR_RETRAIN_RESULT) the MLflow run id and the
logged model's URI, which the control plane registers and validates.

Parameters (the pipeline's `parameters`, or `monitor retrain --param KEY=VALUE`):

- `estimator`: `gradient_boosting` (default) or `linear` (logistic or ridge regression);
- `features`: the feature names to train on (default: all of them);
- `shuffle_labels`: train on shuffled labels, a deliberately worse candidate for demos and tests;
- `register`: register the version here (the control plane then adopts it) instead of leaving
  registration to the control plane;
- `validation_fraction`: hold out this share of the labelled rows, never fit on, and hand them
  back, scored by the new model, as its reference (`reference.parquet` in the run's folder);
  without it the control plane makes the reference from the records it held out itself;
- `seed`: the random seed (default 0).
"""

import json
import os
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import sklearn
import skops
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

# The types skops must be told to trust to save and load these pipelines: tree node arrays
# (gradient boosting) and numpy dtypes. Listed, not discovered, so nothing unexpected is trusted.
TRUSTED_TYPES = ["numpy.dtype", "sklearn.tree._tree.Tree"]


def _estimator(task: str, kind: str, seed: int) -> Any:
    regression = task == "regression"
    if kind == "linear":
        return Ridge() if regression else LogisticRegression(max_iter=2000)
    if kind != "gradient_boosting":
        raise ValueError(f"parameters.estimator: {kind!r} is not gradient_boosting or linear")
    if regression:
        return GradientBoostingRegressor(n_estimators=100, random_state=seed)
    return GradientBoostingClassifier(n_estimators=100, random_state=seed)


def build_model(features: list[dict[str, Any]], task: str, kind: str, seed: int) -> Pipeline:
    """Impute and scale numbers, one-hot encode categories and booleans (missing values and
    unseen categories included), then the estimator."""
    numerical = [f["name"] for f in features if f["kind"] == "numerical"]
    other = [f["name"] for f in features if f["kind"] != "numerical"]
    steps: list[tuple[str, Any, list[str]]] = []
    if numerical:
        scaled = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        steps.append(("num", scaled, numerical))
    if other:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), other))
    estimator = _estimator(task, kind, seed)
    return Pipeline([("prepare", ColumnTransformer(steps)), ("model", estimator)])


def log_model(model: Pipeline, x: pd.DataFrame) -> ModelInfo:
    """Log `model` in the active MLflow run, with the signature of the features it takes.

    A classifier's scoring server answers class probabilities (columns in the order of the
    sorted class labels), so the monitor sees scores, not only the winning class."""
    scores = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    info: ModelInfo = mlflow.sklearn.log_model(
        model,
        name="model",
        signature=infer_signature(x, getattr(model, scores)(x)),
        pyfunc_predict_fn=scores,
        skops_trusted_types=TRUSTED_TYPES,
        # Named, not inferred: inferring them loads the model in a subprocess (seconds).
        pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"skops=={skops.__version__}"],
    )
    return info


def train(context: dict[str, Any]) -> dict[str, Any]:
    """The entry point: the context in, {"mlflow_run_id", "model_uri"} (or
    {"mlflow_run_id", "registered_version"}) out."""
    parameters = context.get("parameters") or {}
    seed = int(parameters.get("seed", 0))
    data = context["data"]
    label = data["label_column"]
    frame = pd.read_parquet(data["training"])
    frame = frame[frame[label].notna()]
    if frame.empty:
        raise SystemExit("the export holds no labelled rows: upload labels or a labelled reference")
    wanted = parameters.get("features")
    features = [f for f in context["model"]["features"] if not wanted or f["name"] in wanted]
    names = [f["name"] for f in context["model"]["features"]]  # the signature takes them all
    validation = frame.sample(
        frac=float(parameters.get("validation_fraction", 0)), random_state=seed
    )
    frame = frame.drop(index=validation.index)
    x, y = frame[names], frame[label].to_numpy()
    if parameters.get("shuffle_labels"):
        y = np.random.default_rng(seed).permutation(y)
    task = context["model"]["task"]
    model = build_model(features, task, str(parameters.get("estimator", "gradient_boosting")), seed)
    model.fit(x, y)
    print(f"trained on {len(x)} rows ({data['rows']}) with {len(features)} features", flush=True)

    tracking = context["mlflow"]
    mlflow.set_tracking_uri(tracking["tracking_uri"])
    with mlflow.start_run(
        experiment_id=tracking["experiment_id"], run_name=f"retrain-{context['run_id']}"
    ) as run:
        mlflow.set_tags(
            {
                "monitor.model": context["model"]["name"],
                "monitor.retraining_run": str(context["run_id"]),
                "monitor.trigger": context["trigger"]["kind"],
            }
        )
        mlflow.log_params(
            {
                "estimator": parameters.get("estimator", "gradient_boosting"),
                "shuffle_labels": bool(parameters.get("shuffle_labels")),
                "features": len(features),
                "drifted_features": ",".join(context.get("drifted_features") or []) or "-",
            }
        )
        mlflow.log_metric("training_rows", len(x))
        info = log_model(model, x)
        result: dict[str, Any] = {"mlflow_run_id": run.info.run_id, "model_uri": info.model_uri}
        if parameters.get("register"):
            version = mlflow.register_model(info.model_uri, tracking["registered_model"])
            result = {"mlflow_run_id": run.info.run_id, "registered_version": str(version.version)}
    print(f"logged {info.model_uri} in MLflow run {run.info.run_id}", flush=True)
    if len(validation):
        result["reference"] = _write_reference(model, validation, names, label, context)
    return result


def _write_reference(
    model: Pipeline, rows: pd.DataFrame, names: list[str], label: str, context: dict[str, Any]
) -> str:
    """The held-out rows with the new model's predictions (a binary model's positive-class
    probability), as a reference file in the run's folder; returns its name."""
    reference = rows[[*names, label]].copy()
    classes = context["model"].get("class_labels") or []
    if context["model"]["task"] == "binary_classification" and len(classes) == 2:
        positive = list(model.classes_).index(classes[1])
        reference["prediction"] = model.predict_proba(rows[names])[:, positive]
    else:
        reference["prediction"] = model.predict(rows[names])
    path = Path(context["data"]["training"]).parent / "reference.parquet"
    reference.to_parquet(path)
    return path.name


def main() -> None:
    """As a `command` pipeline: the context from $MONITOR_RETRAIN_CONTEXT, the result written
    to $MONITOR_RETRAIN_RESULT."""
    context = json.loads(Path(os.environ["MONITOR_RETRAIN_CONTEXT"]).read_text(encoding="utf-8"))
    result = train(context)
    Path(os.environ["MONITOR_RETRAIN_RESULT"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()

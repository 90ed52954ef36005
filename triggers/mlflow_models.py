"""Loading an MLflow model in the form SHAP explains best: the native model for tree flavours,
else the pyfunc ``predict`` callable. The only module that imports ``mlflow`` for detectors."""

from __future__ import annotations

import importlib

import mlflow

# Flavours whose native model object TreeExplainer can read (non-tree sklearn models still work:
# detectors.attribution falls back to the model-agnostic explainer on their predict_proba).
NATIVE_FLAVOURS = ("sklearn", "lightgbm", "xgboost")


def load_explainable_model(model_uri: str, tracking_uri: str | None = None) -> object:
    """Load ``models:/name@alias``, ``models:/name/version``, ``runs:/run_id/path`` or any MLflow
    model URI for :func:`detectors.attribution.attribution_drift`, from ``tracking_uri`` when
    given (else MLflow's configured one)."""
    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    flavours = mlflow.models.get_model_info(model_uri).flavors
    for flavour in NATIVE_FLAVOURS:
        if flavour in flavours:
            module = importlib.import_module(f"mlflow.{flavour}")
            return module.load_model(model_uri)
    return mlflow.pyfunc.load_model(model_uri).predict

"""SHAP attribution drift in a run: the same model explains a reference sample and a window
sample, and the rankings of mean |SHAP| are compared by NDCG."""

import re

import pandas as pd
import pyarrow as pa
from sqlmodel import Session

from detectors.attribution import (
    AttributionBaseline,
    AttributionDriftResult,
    ExplainerSettings,
    attribution_drift,
)
from monitor.entities.monitor import MonitorBase
from monitor.entities.reference import ReferenceDataset
from monitor.entities.registered_model import ModelSchema
from monitor.runs.report import SEED, reference_sample
from triggers.mlflow_models import load_explainable_model

ATTRIBUTION = "__attribution__"  # the column name of the NDCG verdict in results and state
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@[^/]+|/[^/]+)$")


def model_uri_of(uri: str, version: str | None) -> str:
    """`uri` pointed at `version` of the same registered model (`models:/churn@champion` ->
    `models:/churn/3`); a run URI, or no version known, is left as it is.

    >>> model_uri_of("models:/churn@champion", "3")
    'models:/churn/3'
    """
    match = _REGISTRY_URI.match(uri)
    if match is None or version is None:
        return uri
    return f"models:/{match.group('name')}/{version}"


def explain_window(
    session: Session,
    reference: ReferenceDataset,
    settings: MonitorBase,
    schema: ModelSchema,
    window: pa.Table,
    tracking_uri: str | None,
    version: str | None,
) -> AttributionDriftResult | None:
    """None when the monitor does not ask for SHAP. The model explained is the version the window
    judges, and the baseline is refitted with it each run, so a promoted model is never compared
    with its predecessor's attributions."""
    if not settings.shap_sample_size or settings.explain_model_uri is None:
        return None
    model = load_explainable_model(model_uri_of(settings.explain_model_uri, version), tracking_uri)
    names = schema.feature_names
    budget = ExplainerSettings(sample_size=settings.shap_sample_size, seed=SEED)
    baseline = AttributionBaseline.fit(
        model, reference_sample(session, reference, names, settings.shap_sample_size), budget
    )
    current: pd.DataFrame = window.select(names).to_pandas()
    return attribution_drift(baseline, model, current)

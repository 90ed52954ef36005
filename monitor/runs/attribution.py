"""SHAP attribution drift in a run: the same model explains a reference sample and a window
sample, and the rankings of mean |SHAP| are compared by NDCG."""

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


def explain_window(
    session: Session,
    reference: ReferenceDataset,
    settings: MonitorBase,
    schema: ModelSchema,
    window: pa.Table,
    tracking_uri: str | None,
) -> AttributionDriftResult | None:
    """None when the monitor does not ask for SHAP; the baseline is refitted with the current
    model each run, so a promoted model is never compared with its predecessor's attributions."""
    if not settings.shap_sample_size or settings.explain_model_uri is None:
        return None
    model = load_explainable_model(settings.explain_model_uri, tracking_uri)
    names = schema.feature_names
    budget = ExplainerSettings(sample_size=settings.shap_sample_size, seed=SEED)
    baseline = AttributionBaseline.fit(
        model, reference_sample(session, reference, names, settings.shap_sample_size), budget
    )
    current: pd.DataFrame = window.select(names).to_pandas()
    return attribution_drift(baseline, model, current)

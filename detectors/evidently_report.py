"""Evidently's standard data-drift HTML report for a reference/current pair.

The only module that imports ``evidently`` (lazily); only an HTML string leaves it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from detectors.profile import check_schema
from detectors.schema import FeatureKind, FeatureSpec


def render_data_drift_html(
    reference: pd.DataFrame, current: pd.DataFrame, schema: Iterable[FeatureSpec]
) -> str:
    """A self-contained HTML page of Evidently's ``DataDriftPreset`` on the schema's columns.

    Boolean features are shown as categorical. Evidently recomputes everything from both raw
    frames, so this is for attaching a human-readable report to a run, not for the hot path.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    specs = check_schema(reference, schema)
    check_schema(current, specs)
    names = [spec.name for spec in specs]
    definition = DataDefinition(
        numerical_columns=[s.name for s in specs if s.kind is FeatureKind.NUMERICAL],
        categorical_columns=[s.name for s in specs if s.kind is not FeatureKind.NUMERICAL],
    )
    snapshot = Report([DataDriftPreset(columns=names)]).run(
        Dataset.from_pandas(current[names], data_definition=definition),
        Dataset.from_pandas(reference[names], data_definition=definition),
    )
    return str(snapshot.get_html_str(as_iframe=False))

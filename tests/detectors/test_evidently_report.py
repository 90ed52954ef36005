"""Evidently's data-drift HTML report, rendered through the adapter."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detectors import FeatureSpec
from detectors.evidently_report import render_data_drift_html


def test_report_is_an_html_page_naming_the_drifted_column() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(
        {"monthly_spend": rng.normal(size=500), "region": rng.choice(["n", "s"], 500)}
    )
    current = reference.assign(monthly_spend=reference["monthly_spend"] + 3)
    schema = [FeatureSpec("monthly_spend", "numerical"), FeatureSpec("region", "categorical")]
    html = render_data_drift_html(reference, current, schema)
    assert isinstance(html, str) and html.lstrip().startswith("<!DOCTYPE html>")
    assert "monthly_spend" in html

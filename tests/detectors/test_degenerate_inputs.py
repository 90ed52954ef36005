"""Degenerate windows and references give defined results with a message, never an exception."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from detectors import DatasetDriftReport, FeatureSpec, ReferenceProfile, detect_drift

SCHEMA = (FeatureSpec("amount", "numerical"), FeatureSpec("plan", "categorical"))


def reference_frame(rows: int = 1_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"amount": rng.normal(100, 15, rows), "plan": rng.choice(["basic", "pro"], rows)}
    )


def run(current: pd.DataFrame, reference: pd.DataFrame | None = None) -> DatasetDriftReport:
    profile = ReferenceProfile.fit(
        reference if reference is not None else reference_frame(), SCHEMA
    )
    return detect_drift(profile, current)


def messages(report: DatasetDriftReport, feature: str) -> list[str]:
    return [r.message or "" for r in report.feature(feature).results]


def test_empty_window_gives_undefined_statistics_and_no_drift() -> None:
    report = run(reference_frame().iloc[:0])
    result = report.feature("amount").primary
    assert math.isnan(result.statistic) and not result.drifted and not report.drifted
    assert result.message == "window is empty; nothing to compare"


def test_all_missing_window_says_so_and_fails_the_missing_check() -> None:
    current = pd.DataFrame({"amount": [np.nan] * 20, "plan": [None] * 20})
    report = run(current)
    assert messages(report, "plan")[0] == (
        "window has no usable values (20 rows: 20 missing, 0 of the wrong type); nothing to compare"
    )
    assert report.feature("plan").quality[0].failed


def test_constant_reference_feature_is_compared_with_a_message() -> None:
    reference = reference_frame().assign(amount=5.0)
    report = run(reference_frame(), reference)
    assert report.feature("amount").drifted
    assert "reference is constant (5.0)" in messages(report, "amount")[0]


def test_constant_window_is_compared_with_a_message() -> None:
    report = run(reference_frame().assign(amount=100.0))
    assert "window is constant" in messages(report, "amount")[0]


def test_one_category_on_both_sides_does_not_drift() -> None:
    reference = reference_frame().assign(plan="basic")
    report = run(reference_frame(200).assign(plan="basic"), reference)
    assert not report.feature("plan").drifted
    assert "single category" in messages(report, "plan")[0]


def test_only_new_categories_drift_and_are_listed() -> None:
    report = run(reference_frame(200).assign(plan="enterprise"))
    primary = report.feature("plan").primary
    assert primary.drifted and primary.new_categories == ("enterprise",)


def test_infinities_are_excluded_from_the_tests_and_counted_out_of_range() -> None:
    current = reference_frame(200)
    current.loc[:9, "amount"] = np.inf
    report = run(current)
    out_of_range = next(q for q in report.feature("amount").quality if q.check == "out_of_range")
    assert report.feature("amount").primary.n_cur == 190
    assert out_of_range.count == 10 and out_of_range.failed
    assert "10 infinite value(s) excluded from the tests" in messages(report, "amount")[0]


def test_text_in_a_numerical_column_is_a_type_error_excluded_from_the_tests() -> None:
    current = reference_frame(200).astype({"amount": object})
    current.loc[:4, "amount"] = "n/a"
    report = run(current)
    type_errors = next(q for q in report.feature("amount").quality if q.check == "type_error")
    assert (type_errors.count, type_errors.failed) == (5, True)
    assert "5 value(s) of the wrong type excluded (e.g. 'n/a')" in messages(report, "amount")[0]


def test_mixed_types_in_a_categorical_column_are_compared_as_text() -> None:
    current = reference_frame(200).astype({"plan": object})
    current.loc[:9, "plan"] = 7
    report = run(current)
    assert "values of mixed types (number, str) compared as text" in messages(report, "plan")[0]
    assert report.feature("plan").primary.new_categories == ("7",)


def test_all_missing_reference_gives_no_drift_with_a_message() -> None:
    reference = reference_frame().assign(amount=np.nan)
    report = run(reference_frame(), reference)
    assert not report.feature("amount").drifted
    assert messages(report, "amount")[0] == (
        "reference has no usable values for this feature; nothing to compare"
    )

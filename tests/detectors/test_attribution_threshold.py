"""The NDCG threshold learned from reference subsamples and the intervals of importance changes,
on per-row |SHAP| of a linear model (beta_j * (x_j - mean)), so no explainer is needed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from detectors.attribution import AttributionBaseline, ExplainerSettings, attribution_drift
from detectors.importance import change_intervals, ndcg, ndcg_threshold

TRIALS = 20


def magnitudes(seed: int, features: int, *, top_gone: bool = False) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((1_000, features))
    if top_gone:
        rows[:, 0] = 0.0
    return np.abs(rows / np.sqrt(np.arange(1, features + 1)))


def verdicts(features: int, top_gone: bool) -> list[bool]:
    flags = []
    for trial in range(TRIALS):
        reference = magnitudes(trial, features)
        threshold = ndcg_threshold(reference, 1_000, seed=trial)
        current = magnitudes(10_000 + trial, features, top_gone=top_gone).mean(axis=0)
        assert threshold is not None
        flags.append(ndcg(reference.mean(axis=0), current) < threshold)
    return flags


@pytest.mark.parametrize("features", [5, 20, 100])
def test_learned_threshold_keeps_quiet_without_drift(features: int) -> None:
    assert sum(verdicts(features, top_gone=False)) <= 1


@pytest.mark.parametrize("features", [5, 20, 100])
def test_learned_threshold_flags_the_top_feature_losing_its_importance(features: int) -> None:
    assert all(verdicts(features, top_gone=True))


def test_too_few_reference_rows_learn_no_threshold() -> None:
    assert ndcg_threshold(magnitudes(0, 5)[:30], 1_000, seed=0) is None


def test_intervals_show_a_magnitude_change_that_keeps_the_ranking() -> None:
    reference, current = magnitudes(0, 5), 3 * magnitudes(1, 5)
    low, _ = change_intervals(reference, current, seed=0)
    assert ndcg(reference.mean(axis=0), current.mean(axis=0)) == 1.0
    assert (low > 0).all()


def test_intervals_of_an_unchanged_sample_cover_zero() -> None:
    low, high = change_intervals(magnitudes(0, 5), magnitudes(1, 5), seed=0)
    assert (low < 0).all() and (high > 0).all()


@pytest.fixture(scope="module")
def fitted() -> tuple[GradientBoostingClassifier, AttributionBaseline]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(1_000, 4)), columns=["a", "b", "c", "d"])
    labels = (2 * frame["a"] + frame["b"] > 0).astype(int)
    model = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0)
    model.fit(frame, labels)
    return model, AttributionBaseline.fit(model, frame, ExplainerSettings(sample_size=400))


def test_drift_run_reports_its_learned_threshold_and_intervals(
    fitted: tuple[GradientBoostingClassifier, AttributionBaseline],
) -> None:
    model, baseline = fitted
    window = pd.DataFrame(np.random.default_rng(1).normal(size=(400, 4)), columns=list("abcd"))
    result = attribution_drift(baseline, model, window)
    assert result.threshold_method == "reference_subsamples" and not result.drifted
    assert 0.9 < result.threshold <= 1.0
    assert all(s.shift_low <= s.shift <= s.shift_high for s in result.shifts)


def test_a_baseline_stored_without_rows_falls_back_to_point_nine(
    fitted: tuple[GradientBoostingClassifier, AttributionBaseline],
) -> None:
    model, baseline = fitted
    legacy = AttributionBaseline.from_dict(
        {k: v for k, v in baseline.to_dict().items() if k != "magnitudes"}
    )
    window = pd.DataFrame(np.random.default_rng(1).normal(size=(400, 4)), columns=list("abcd"))
    result = attribution_drift(legacy, model, window)
    assert (result.threshold, result.threshold_method) == (0.9, "fallback")
    assert dataclasses.replace(baseline, magnitudes=()) == legacy

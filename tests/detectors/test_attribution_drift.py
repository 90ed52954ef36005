"""SHAP attribution drift: baseline importance, NDCG of the window's ranking, per-feature shift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shap
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from detectors.attribution import (
    AttributionBaseline,
    ExplainerSettings,
    attribution_drift,
    ndcg,
)

FEATURES = ["f0", "f1", "f2", "f3", "f4"]
SETTINGS = ExplainerSettings(sample_size=300, background_size=20, seed=0)
AGNOSTIC = ExplainerSettings(sample_size=30, background_size=10, seed=0)


def sample(rows: int, seed: int, f0_scale: float = 1.0) -> pd.DataFrame:
    frame = pd.DataFrame(np.random.default_rng(seed).normal(size=(rows, 5)), columns=FEATURES)
    frame["f0"] *= f0_scale
    return frame


def target(frame: pd.DataFrame) -> np.ndarray:
    return (2 * frame["f0"] + frame["f1"] - 0.5 * frame["f2"] > 0).astype(int).to_numpy()


@pytest.fixture(scope="module")
def model() -> GradientBoostingClassifier:
    train = sample(2_000, seed=0)
    return GradientBoostingClassifier(n_estimators=30, max_depth=2, random_state=0).fit(
        train, target(train)
    )


@pytest.fixture(scope="module")
def baseline(model: GradientBoostingClassifier) -> AttributionBaseline:
    return AttributionBaseline.fit(model, sample(2_000, seed=1), SETTINGS)


def test_tree_model_is_explained_with_tree_explainer(baseline: AttributionBaseline) -> None:
    assert baseline.explainer == "tree"


def test_baseline_ranks_the_most_influential_feature_first(baseline: AttributionBaseline) -> None:
    assert baseline.ranking[:3] == ("f0", "f1", "f2")


def test_baseline_importance_is_mean_absolute_shap(
    model: GradientBoostingClassifier, baseline: AttributionBaseline
) -> None:
    reference = sample(300, seed=2)
    fitted = AttributionBaseline.fit(model, reference, SETTINGS)
    expected = np.abs(shap.TreeExplainer(model).shap_values(reference)).mean(axis=0)
    assert fitted.importance == pytest.approx(expected.tolist(), rel=1e-9)


def test_baseline_round_trips_through_json(baseline: AttributionBaseline) -> None:
    assert AttributionBaseline.from_json(baseline.to_json()) == baseline


def test_window_like_the_reference_does_not_drift(
    model: GradientBoostingClassifier, baseline: AttributionBaseline
) -> None:
    result = attribution_drift(baseline, model, sample(1_000, seed=3))
    assert result.ndcg > 0.97 and not result.drifted


def test_window_where_the_top_feature_stops_varying_drifts(
    model: GradientBoostingClassifier, baseline: AttributionBaseline
) -> None:
    result = attribution_drift(baseline, model, sample(1_000, seed=4, f0_scale=0.05))
    top = result.shifts[0]
    assert result.drifted and result.ndcg < 0.9
    assert (top.feature, top.baseline_rank) == ("f0", 1)
    assert top.current_rank > 1 and top.shift < 0


def test_callable_model_is_explained_with_the_seeded_permutation_explainer(
    model: GradientBoostingClassifier,
) -> None:
    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(frame)[:, 1])

    first, second = (AttributionBaseline.fit(predict, sample(500, seed=5), AGNOSTIC) for _ in "ab")
    assert first.explainer == "permutation" and first == second
    assert first.ranking[0] == "f0"


def test_model_without_tree_support_falls_back_to_permutation_with_a_message() -> None:
    train = sample(500, seed=6)
    linear = LogisticRegression().fit(train, target(train))
    baseline = AttributionBaseline.fit(linear, train, AGNOSTIC)
    result = attribution_drift(baseline, linear, sample(200, seed=7))
    assert result.explainer == "permutation"
    assert result.message is not None and result.message.startswith("TreeExplainer does not")


def test_multiclass_importance_averages_absolute_shap_over_classes() -> None:
    train = sample(600, seed=8)
    classes = np.digitize(train["f0"] + 0.5 * train["f1"], [-0.5, 0.5])
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(train, classes)
    reference = sample(100, seed=9)
    fitted = AttributionBaseline.fit(forest, reference, SETTINGS)
    values = np.asarray(shap.TreeExplainer(forest).shap_values(reference))
    expected = np.abs(values).mean(axis=2).mean(axis=0)
    assert fitted.importance == pytest.approx(expected.tolist(), rel=1e-9)


def test_ndcg_with_top_k_counts_only_the_first_positions() -> None:
    assert ndcg([0.5, 0.3, 0.2], [0.6, 0.1, 0.3], top_k=1) == 1.0
    assert ndcg([0.5, 0.3, 0.2], [0.6, 0.1, 0.3]) < 1.0


def test_empty_window_sample_gives_no_drift_with_a_message(
    model: GradientBoostingClassifier, baseline: AttributionBaseline
) -> None:
    result = attribution_drift(baseline, model, sample(1, seed=0).iloc[:0])
    assert math.isnan(result.ndcg) and not result.drifted
    assert result.message == "window sample is empty; nothing to compare"


def test_attribution_drift_refuses_a_window_without_a_feature(
    model: GradientBoostingClassifier, baseline: AttributionBaseline
) -> None:
    with pytest.raises(ValueError, match=r"no column for feature.*f3"):
        attribution_drift(baseline, model, sample(10, seed=0).drop(columns="f3"))


def test_explainer_settings_refuse_a_zero_sample_size() -> None:
    with pytest.raises(ValueError, match=r"sample_size must be an integer in \[1, 1000000\]"):
        ExplainerSettings(sample_size=0)

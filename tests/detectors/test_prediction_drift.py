"""Prediction drift: model outputs and labels as columns for the same tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detectors import FeatureKind, ReferenceProfile, detect_drift
from detectors.prediction import output_columns


def probabilities(rows: int, cat_share: float, seed: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(seed)
    scores = np.clip(rng.normal(cat_share, 0.2, rows), 0, 1)
    return [{"cat": float(p), "dog": float(1 - p)} for p in scores]


def test_probabilities_give_a_class_column_and_one_score_column_per_class() -> None:
    frame, schema = output_columns(probabilities(5, 0.5, 0), "multiclass_classification")
    assert list(frame.columns) == ["prediction", "score[cat]", "score[dog]"]
    assert [s.kind for s in schema] == [FeatureKind.CATEGORICAL, *[FeatureKind.NUMERICAL] * 2]


def test_binary_scores_give_the_positive_score_and_a_class_at_one_half() -> None:
    frame, _ = output_columns([0.2, 0.7, None], "binary_classification", class_labels=["no", "yes"])
    assert frame["prediction"].tolist() == ["no", "yes", None]
    assert frame["score[yes]"].tolist()[:2] == [0.2, 0.7]


def test_class_labels_give_a_single_categorical_column() -> None:
    _, schema = output_columns(["cat", "dog"], "multiclass_classification")
    assert [(s.name, s.kind) for s in schema] == [("prediction", FeatureKind.CATEGORICAL)]


def test_regression_predictions_and_labels_are_numerical() -> None:
    _, schema = output_columns([1.5, 2.0], "regression", labels=[1.0, 2.5])
    assert [(s.name, s.kind) for s in schema] == [
        ("prediction", FeatureKind.NUMERICAL),
        ("label", FeatureKind.NUMERICAL),
    ]


def test_classification_labels_are_categorical() -> None:
    _, schema = output_columns(["a", "b"], "binary_classification", labels=["b", "b"])
    assert schema[-1].kind is FeatureKind.CATEGORICAL


def test_prediction_drift_flags_a_change_in_class_shares_and_scores() -> None:
    reference, schema = output_columns(probabilities(4_000, 0.5, 1), "multiclass_classification")
    profile = ReferenceProfile.fit(reference, schema)
    window, _ = output_columns(probabilities(2_000, 0.65, 2), "multiclass_classification")
    assert detect_drift(profile, window).drifted_features == (
        "prediction",
        "score[cat]",
        "score[dog]",
    )


def test_prediction_drift_is_quiet_when_outputs_are_stable() -> None:
    reference, schema = output_columns(probabilities(4_000, 0.5, 1), "multiclass_classification")
    profile = ReferenceProfile.fit(reference, schema)
    window, _ = output_columns(probabilities(2_000, 0.5, 3), "multiclass_classification")
    assert detect_drift(profile, window).drifted_features == ()


def test_label_drift_is_detected_when_labels_are_present() -> None:
    rng = np.random.default_rng(4)
    predictions = pd.Series(rng.normal(size=2_000))
    reference, schema = output_columns(predictions, "regression", labels=predictions + 0.1)
    profile = ReferenceProfile.fit(reference, schema)
    window, _ = output_columns(predictions[:1_000], "regression", labels=predictions[:1_000] + 1)
    assert detect_drift(profile, window).drifted_features == ("label",)

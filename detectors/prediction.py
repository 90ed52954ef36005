"""Prediction drift: a model's outputs (and labels, once known) as columns the same tests read.

Classification gives a categorical ``prediction`` column (class shares) and, when probabilities
are logged, one numerical ``score[<class>]`` column per class (score distributions); regression
gives a numerical ``prediction``. Labels become a ``label`` column of the same kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from detectors.columns import category_label
from detectors.schema import FeatureKind, FeatureSpec

PREDICTION = "prediction"
LABEL = "label"


class Task(StrEnum):
    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"


def score_column(class_label: object) -> str:
    return f"score[{category_label(class_label, FeatureKind.CATEGORICAL)}]"


def output_columns(
    predictions: Sequence[Any] | pd.Series,
    task: Task | str,
    *,
    class_labels: Sequence[Any] = (),
    labels: Sequence[Any] | pd.Series | None = None,
) -> tuple[pd.DataFrame, tuple[FeatureSpec, ...]]:
    """The output frame and its schema, ready for ``ReferenceProfile.fit`` / ``detect_drift``.

    Each prediction is a number (regression; for binary classification, a non-integral number is
    the score of the positive class, ``class_labels[1]`` or 1, with a 0.5 cut-off for the
    class), a class label, or a mapping of class probabilities (the class is the most probable).

    >>> frame, schema = output_columns(
    ...     [{"cat": 0.9, "dog": 0.1}, {"cat": 0.2, "dog": 0.8}], "multiclass_classification"
    ... )
    >>> frame.to_dict("list")
    {'prediction': ['cat', 'dog'], 'score[cat]': [0.9, 0.2], 'score[dog]': [0.1, 0.8]}
    >>> [(spec.name, spec.kind.value) for spec in schema]
    [('prediction', 'categorical'), ('score[cat]', 'numerical'), ('score[dog]', 'numerical')]
    """
    task = Task(task)
    values = pd.Series(predictions).reset_index(drop=True)
    if task is Task.REGRESSION:
        columns = {PREDICTION: values}
        kinds = {PREDICTION: FeatureKind.NUMERICAL}
    else:
        columns = _classification_columns(values, task, class_labels)
        kinds = dict.fromkeys(columns, FeatureKind.NUMERICAL)
        kinds[PREDICTION] = FeatureKind.CATEGORICAL
    if labels is not None:
        columns[LABEL] = pd.Series(labels).reset_index(drop=True)
        kinds[LABEL] = kinds[PREDICTION]
    frame = pd.DataFrame(columns)
    return frame, tuple(FeatureSpec(name, kinds[name]) for name in frame.columns)


def _classification_columns(
    values: pd.Series, task: Task, class_labels: Sequence[Any]
) -> dict[str, pd.Series]:
    first = values.dropna().iloc[0] if values.notna().any() else None
    if isinstance(first, Mapping):
        scores = pd.DataFrame.from_records(list(values), columns=list(class_labels) or None)
        scores = scores.astype(np.float64)
        predicted = scores.idxmax(axis=1).map(lambda c: category_label(c, FeatureKind.CATEGORICAL))
        columns = {PREDICTION: predicted}
        columns.update({score_column(c): scores[c] for c in scores.columns})
        return columns
    is_score = pd.api.types.is_float_dtype(values.dtype) and not np.all(values.dropna() % 1 == 0)
    if task is Task.BINARY_CLASSIFICATION and is_score:
        negative, positive = class_labels if len(class_labels) == 2 else (0, 1)
        predicted = pd.Series(np.where(values >= 0.5, positive, negative), dtype=object)
        predicted[values.isna()] = None
        return {PREDICTION: predicted, score_column(positive): values}
    return {PREDICTION: values}

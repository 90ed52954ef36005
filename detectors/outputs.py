"""Reading a model's logged outputs and its late labels into arrays for the performance metrics.

A classifier's prediction is what the sidecar logged: a class label, a mapping of class
probabilities, or (binary models) a non-integral number, the positive-class score with a 0.5
cut-off for the class, as :func:`detectors.prediction.output_columns` reads them; a 2-D array of
probabilities in class order is accepted as well. Classes and labels are compared as text labels
(:func:`detectors.columns.category_label`), so 1, 1.0 and "1" are one class. Missing or unusable
predictions and labels are marked, never raised on: a window may hold anything a sidecar sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from detectors.columns import FloatArray, IntArray, category_label
from detectors.prediction import Task
from detectors.schema import FeatureKind

MISSING = -1
UNKNOWN_CLASS = -2

Values = Sequence[Any] | pd.Series | np.ndarray[Any, Any]


@dataclass(frozen=True, slots=True, eq=False)
class ClassifierOutputs:
    """Per row: the predicted class index (:data:`MISSING` where unusable) and, when the model
    logged scores, its class probabilities (n x classes, class order; NaN rows where unusable)."""

    predicted: IntArray
    probabilities: FloatArray | None

    @property
    def usable(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        usable = self.predicted >= 0
        if self.probabilities is not None:
            usable &= np.isfinite(self.probabilities).all(axis=1)
        return usable


def class_label_texts(class_labels: Sequence[Any]) -> tuple[str, ...]:
    """The class labels as text, refusing duplicates and values that cannot be a class.

    >>> class_label_texts([0, 1.0])
    ('0', '1')
    """
    texts = []
    for value in class_labels:
        text = category_label(value, FeatureKind.CATEGORICAL)
        if text is None:
            raise ValueError(f"class_labels holds {value!r}, which cannot be a class label")
        texts.append(text)
    if len(set(texts)) < len(texts):
        raise ValueError(f"class_labels name a class more than once: {list(class_labels)!r}")
    return tuple(texts)


def infer_class_labels(predictions: Values, labels: Values, task: Task) -> tuple[str, ...]:
    """Classes when none were given: the probability keys; "0", "1", ... for the columns of a
    probability array or the scores of a binary model; else the sorted text labels seen among
    predictions and labels.

    >>> infer_class_labels([{"dog": 0.3, "cat": 0.7}], ["dog"], Task.MULTICLASS_CLASSIFICATION)
    ('cat', 'dog')
    """
    if isinstance(predictions, np.ndarray) and predictions.ndim == 2:
        return tuple(str(k) for k in range(predictions.shape[1]))
    series = pd.Series(_as_list(predictions))
    first = series.dropna().iloc[0] if series.notna().any() else None
    if isinstance(first, Mapping):
        seen = {
            category_label(key, FeatureKind.CATEGORICAL)
            for value in series.dropna()
            if isinstance(value, Mapping)
            for key in value
        }
    elif task is Task.BINARY_CLASSIFICATION and _is_score(series):
        return ("0", "1")
    else:
        seen = {*_text_labels(series), *_text_labels(pd.Series(_as_list(labels)))}
    return tuple(sorted(label for label in seen if label is not None))


def read_classifier_outputs(
    predictions: Values, task: Task, class_labels: tuple[str, ...]
) -> ClassifierOutputs:
    """A classifier's predictions as class indices and, where logged, class probabilities."""
    classes = len(class_labels)
    if isinstance(predictions, np.ndarray) and predictions.ndim == 2:
        if predictions.shape[1] != classes:
            raise ValueError(
                f"predictions have {predictions.shape[1]} probability columns for "
                f"{classes} class labels"
            )
        # Column-major: the metrics read one class's column at a time.
        probabilities = np.asfortranarray(predictions, dtype=np.float64)
        return ClassifierOutputs(_most_probable(probabilities), probabilities)
    series = pd.Series(_as_list(predictions))
    first = series.dropna().iloc[0] if series.notna().any() else None
    if isinstance(first, Mapping):
        probabilities = _mapping_probabilities(series, class_labels)
        return ClassifierOutputs(_most_probable(probabilities), probabilities)
    if task is Task.BINARY_CLASSIFICATION and _is_score(series):
        scores = series.to_numpy(dtype=np.float64, na_value=np.nan)
        scores[~np.isfinite(scores) | (scores < 0) | (scores > 1)] = np.nan
        predicted = np.where(scores >= 0.5, 1, 0).astype(np.int64)
        predicted[np.isnan(scores)] = MISSING
        return ClassifierOutputs(predicted, np.column_stack([1.0 - scores, scores]))
    codes = read_class_indices(series, class_labels)
    codes[codes == UNKNOWN_CLASS] = MISSING
    return ClassifierOutputs(codes, None)


def read_class_indices(values: Values, class_labels: tuple[str, ...]) -> IntArray:
    """Each value's index in ``class_labels``; :data:`MISSING` for missing values and
    :data:`UNKNOWN_CLASS` for values that are not among the classes."""
    series = pd.Series(_as_list(values))
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    index = {label: i for i, label in enumerate(class_labels)}
    lookup = np.asarray(
        [index.get(str(category_label(u, FeatureKind.CATEGORICAL)), UNKNOWN_CLASS) for u in uniques]
        + [MISSING],
        dtype=np.int64,
    )
    return lookup[codes]


def read_numbers(values: Values) -> FloatArray:
    """Regression predictions or labels as float64, NaN where missing, infinite or not a number."""
    numbers = pd.to_numeric(pd.Series(_as_list(values)), errors="coerce")
    array = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    array[~np.isfinite(array)] = np.nan
    return array


def _as_list(values: Values) -> Any:
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    if isinstance(values, np.ndarray):
        return values
    return list(values)


def _is_score(series: pd.Series) -> bool:
    if not pd.api.types.is_float_dtype(series.dtype):
        return False
    present = series.dropna()
    return bool(len(present)) and not bool(np.all(present % 1 == 0))


def _text_labels(series: pd.Series) -> set[str | None]:
    return {category_label(v, FeatureKind.CATEGORICAL) for v in series.dropna().unique()}


def _mapping_probabilities(series: pd.Series, class_labels: tuple[str, ...]) -> FloatArray:
    rows = [v if isinstance(v, Mapping) else {} for v in series]
    frame = pd.DataFrame.from_records(rows)
    frame.columns = [category_label(c, FeatureKind.CATEGORICAL) for c in frame.columns]
    unknown = sorted(str(c) for c in frame.columns if c not in class_labels)
    if unknown:
        raise ValueError(
            f"prediction probabilities name class(es) {', '.join(map(repr, unknown))} that are "
            f"not among the class labels {list(class_labels)!r}"
        )
    frame = frame.reindex(columns=list(class_labels))
    numbers: FloatArray = frame.apply(pd.to_numeric, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return numbers


def _most_probable(probabilities: FloatArray) -> IntArray:
    usable = np.isfinite(probabilities).all(axis=1)
    predicted = np.full(probabilities.shape[0], MISSING, dtype=np.int64)
    if probabilities.shape[1]:
        predicted[usable] = np.argmax(probabilities[usable], axis=1)
    return predicted

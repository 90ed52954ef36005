"""A model's logged outputs paired with labels, reduced to the rows where both are usable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from detectors.columns import FloatArray
from detectors.metrics import (
    ClassifierRows,
    Metric,
    MetricValue,
    classification_metric,
    one_hot,
    regression_metric,
    undefined,
)
from detectors.outputs import (
    UNKNOWN_CLASS,
    Values,
    class_label_texts,
    infer_class_labels,
    read_class_indices,
    read_classifier_outputs,
    read_numbers,
)
from detectors.prediction import Task


@dataclass(frozen=True, slots=True, eq=False)
class LabelledRows:
    """A model's outputs paired with labels, reduced to the rows where both are usable.

    ``n_rows`` counts every row given; ``n_unlabelled`` rows without a label yet;
    ``n_unknown_labels`` labels that are not among the classes; ``n_unusable`` labelled rows
    whose prediction is missing or malformed.
    """

    task: Task
    n_rows: int
    n_unlabelled: int
    n_unknown_labels: int
    n_unusable: int
    classifier: ClassifierRows | None
    predicted: FloatArray
    actual: FloatArray

    @property
    def n(self) -> int:
        return self.classifier.n if self.classifier is not None else int(self.actual.size)

    @property
    def has_probabilities(self) -> bool:
        return self.classifier is not None and self.classifier.probabilities is not None

    @classmethod
    def read(
        cls, predictions: Values, labels: Values, task: Task, class_labels: tuple[str, ...]
    ) -> LabelledRows:
        n_rows = len(predictions)
        if len(labels) != n_rows:
            raise ValueError(f"got {n_rows} predictions but {len(labels)} labels")
        empty = np.empty(0)
        if task is Task.REGRESSION:
            predicted, actual = read_numbers(predictions), read_numbers(labels)
            labelled = ~np.isnan(actual)
            usable = labelled & ~np.isnan(predicted)
            counts = _counts(n_rows, labelled, 0, usable)
            return cls(
                task, **counts, classifier=None, predicted=predicted[usable], actual=actual[usable]
            )
        outputs = read_classifier_outputs(predictions, task, class_labels)
        truth = read_class_indices(labels, class_labels)
        labelled = truth >= 0
        usable = labelled & outputs.usable
        unknown = int(np.count_nonzero(truth == UNKNOWN_CLASS))
        probabilities = outputs.probabilities
        rows = ClassifierRows(
            outcome=one_hot(truth[usable], len(class_labels)),
            predicted=outputs.predicted[usable],
            probabilities=None if probabilities is None else probabilities[usable],
            averaged=averaged_classes(task, class_labels),
            class_labels=class_labels,
        )
        counts = _counts(n_rows, labelled | (truth == UNKNOWN_CLASS), unknown, usable)
        return cls(task, **counts, classifier=rows, predicted=empty, actual=empty)

    def metric(self, metric: Metric, part: slice = slice(None)) -> MetricValue:
        """``metric`` on all usable rows, or on the consecutive ``part`` of them."""
        if self.classifier is not None:
            rows = self.classifier
            chosen = ClassifierRows(
                rows.outcome[part],
                rows.predicted[part],
                None if rows.probabilities is None else rows.probabilities[part],
                rows.averaged,
                rows.class_labels,
            )
            if chosen.n == 0:
                return undefined("no labelled rows")
            return classification_metric(metric, chosen)
        if self.actual[part].size == 0:
            return undefined("no labelled rows")
        return regression_metric(metric, self.predicted[part], self.actual[part])

    def notes(self) -> list[str]:
        notes = []
        if self.n_unknown_labels:
            notes.append(f"{self.n_unknown_labels} labels not among the class labels left out")
        if self.n_unusable:
            notes.append(f"{self.n_unusable} labelled rows without a usable prediction left out")
        return notes


def as_task(task: Task | str) -> Task:
    try:
        return Task(task)
    except ValueError:
        valid = ", ".join(t.value for t in Task)
        raise ValueError(f"task must be one of {valid}, got {task!r}") from None


def resolve_class_labels(
    predictions: Values, labels: Values, task: Task, given: Sequence[Any]
) -> tuple[str, ...]:
    if task is Task.REGRESSION:
        return ()
    texts = class_label_texts(given) if given else infer_class_labels(predictions, labels, task)
    if task is Task.BINARY_CLASSIFICATION and len(texts) != 2:
        raise ValueError(
            f"a binary model needs two class labels (negative, positive), got {list(texts)!r}"
        )
    if len(texts) < 2:
        raise ValueError(f"a classifier needs at least two class labels, got {list(texts)!r}")
    return texts


def averaged_classes(task: Task, class_labels: tuple[str, ...]) -> tuple[int, ...]:
    return (1,) if task is Task.BINARY_CLASSIFICATION else tuple(range(len(class_labels)))


def _counts(
    n_rows: int,
    labelled: np.ndarray[Any, np.dtype[np.bool_]],
    unknown: int,
    usable: np.ndarray[Any, np.dtype[np.bool_]],
) -> dict[str, int]:
    n_labelled = int(np.count_nonzero(labelled))
    return {
        "n_rows": n_rows,
        "n_unlabelled": n_rows - n_labelled,
        "n_unknown_labels": unknown,
        "n_unusable": n_labelled - unknown - int(np.count_nonzero(usable)),
    }

"""Scoring logged predictions against their late labels, for the canary's accuracy check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from detectors.outputs import class_label_texts, read_class_indices, read_classifier_outputs
from detectors.prediction import Task


def count_correct(
    predictions: Sequence[Any],
    labels: Sequence[Any],
    task: Task | str,
    class_labels: Sequence[Any],
) -> tuple[int, int]:
    """(labelled, correct): of the rows with both a usable prediction and a known label, how
    many predicted the label's class. Regression has no classes: (0, 0).

    >>> count_correct([0.9, 0.2, 0.7, None], ["1", "0", 0, "0"], "binary_classification", "01")
    (3, 2)
    """
    task = Task(task)
    if task is Task.REGRESSION or not predictions:
        return 0, 0
    classes = class_label_texts(class_labels)
    predicted = read_classifier_outputs(list(predictions), task, classes).predicted
    truth = read_class_indices(list(labels), classes)
    known = (predicted >= 0) & (truth >= 0)
    return int(known.sum()), int(np.sum(predicted[known] == truth[known]))

"""Checks of single values against a feature kind or a model's prediction and label schema.

Each check returns the normalised value or raises `InvalidValue` whose message names the fix.
Categorical integers become strings so one column holds one type.
"""

import math
import re
from typing import Any

from monitor.entities.registered_model import FeatureKind, ModelSchema, Task

# "1.0", "1.00" -> "1": how integral numbers read as text match integer class labels.
INTEGRAL_TEXT = re.compile(r"^(-?\d+)\.0*$")

PROBABILITY_SUM_TOLERANCE = 0.01
# A category is a code, not free text: longer values are refused, so end users' strings cannot
# bloat the store or carry markup into reports.
MAX_CATEGORY_CHARACTERS = 200
_LARGEST_INTEGER = 2**63


class InvalidValue(ValueError):
    def __init__(self, message: str, kind: str = "value_error") -> None:
        super().__init__(message)
        self.kind = kind


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def check_number(value: Any, what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(f"{what} must be a number, got {_describe(value)}", "type_error")
    if isinstance(value, int) and abs(value) >= _LARGEST_INTEGER:
        raise InvalidValue(
            f"{what} {value} is too large; numbers must fit in 64 bits", "value_error.out_of_range"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(
            f"{what} must be a finite number, got {value}; send null for a missing value "
            "(and declare the feature nullable)",
            "value_error.not_finite",
        )
    return value  # type: ignore[no-any-return]


def check_feature_value(kind: FeatureKind, value: Any) -> Any:
    if kind is FeatureKind.NUMERICAL:
        return check_number(value, "a numerical feature")
    if kind is FeatureKind.CATEGORICAL:
        if isinstance(value, str):
            if len(value) > MAX_CATEGORY_CHARACTERS:
                raise InvalidValue(
                    f"a categorical value has at most {MAX_CATEGORY_CHARACTERS} characters, got "
                    f"{len(value)}; send a category code, not free text",
                    "value_error.too_long",
                )
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise InvalidValue(
            f"a categorical feature takes a string (or an integer code), got {_describe(value)}",
            "type_error",
        )
    if isinstance(value, bool):
        return value
    raise InvalidValue(
        f"a boolean feature takes true or false, got {_describe(value)}", "type_error"
    )


def check_class_label(schema: ModelSchema, value: Any, what: str) -> str:
    numeric = schema.numeric_class_labels
    if numeric and isinstance(value, float) and value.is_integer():
        value = int(value)  # 1.0 is class "1" when the class labels are integers
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidValue(
            f"{what} must be one of the class labels {schema.class_labels}, got {_describe(value)}",
            "type_error",
        )
    label = str(value)
    if numeric:
        label = INTEGRAL_TEXT.sub(r"\1", label)
    if label not in (schema.class_labels or ()):
        raise InvalidValue(
            f"{what} {label!r} is not a class label of this model; expected one of "
            f"{schema.class_labels} (add the class with PATCH if the model gained one)",
            "value_error.unknown_class",
        )
    return label


def check_prediction(schema: ModelSchema, value: Any) -> Any:
    """A regression number, a class label, a binary positive-class score, or class probabilities."""
    if schema.task is Task.REGRESSION:
        return check_number(value, "a regression prediction")
    if isinstance(value, dict):
        return _check_probabilities(schema, value)
    if (
        schema.task is Task.BINARY_CLASSIFICATION
        and isinstance(value, float)
        and not isinstance(value, bool)
    ):
        score = check_number(value, "a binary score")
        if not 0.0 <= score <= 1.0:
            raise InvalidValue(
                f"a binary prediction given as a number is the positive-class probability and "
                f"must lie in [0, 1], got {score}",
                "value_error.out_of_range",
            )
        return score
    return check_class_label(schema, value, "the predicted class")


def _check_probabilities(schema: ModelSchema, value: dict[str, Any]) -> dict[str, float]:
    labels = schema.class_labels or []
    unknown = sorted(set(value) - set(labels))
    if unknown:
        raise InvalidValue(
            f"class probabilities name unknown classes {unknown}; expected keys {labels}",
            "value_error.unknown_class",
        )
    missing = [label for label in labels if label not in value]
    if missing:
        raise InvalidValue(
            f"class probabilities lack {missing}; give a probability for every class {labels}",
            "value_error.missing_class",
        )
    probabilities = {
        k: float(check_number(v, f"the probability of {k!r}")) for k, v in value.items()
    }
    if any(p < 0.0 or p > 1.0 for p in probabilities.values()):
        raise InvalidValue(
            "class probabilities must each lie in [0, 1]", "value_error.out_of_range"
        )
    total = sum(probabilities.values())
    if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise InvalidValue(
            f"class probabilities must sum to 1 (within {PROBABILITY_SUM_TOLERANCE}), "
            f"got {total:.4f}; send softmax outputs, not raw scores",
            "value_error.probability_sum",
        )
    return probabilities


def check_label(schema: ModelSchema, value: Any) -> Any:
    if schema.task is Task.REGRESSION:
        return check_number(value, "a regression label")
    return check_class_label(schema, value, "the label")

"""Whole-batch validation of inference records and labels: every record is checked before any
is written, and every problem is reported with the record's index and field."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from operator import itemgetter
from typing import Any

from monitor.entities.inference import InferenceIn
from monitor.entities.label import LabelIn
from monitor.entities.registered_model import FeatureKind, FeatureSpec, ModelSchema
from monitor.ingest.errors import BatchRejected, ErrorCollector
from monitor.ingest.values import (
    MAX_CATEGORY_CHARACTERS,
    InvalidValue,
    check_feature_value,
    check_label,
    check_prediction,
)

# Per kind, the Python types of JSON values that `check_feature_value` returns unchanged
# (floats only when finite).
_STORED_AS_IS = {
    FeatureKind.NUMERICAL: frozenset((int, float)),
    FeatureKind.CATEGORICAL: frozenset((str,)),
    FeatureKind.BOOLEAN: frozenset((bool,)),
}
FIRST_ERROR_STATUS = 400
# Distinct values one categorical feature may take in one batch: more is an identifier or free
# text sent as a category, which would make every window's category table unbounded.
MAX_CATEGORIES_PER_BATCH = 1000


@dataclass(frozen=True, slots=True)
class InferenceRow:
    request_id: str
    timestamp: datetime
    model_version: str | None
    variant: str | None
    features: dict[str, Any]
    prediction: Any
    latency_ms: float | None
    status_code: int | None

    @property
    def failed(self) -> bool:
        """The serving endpoint answered an error: no model output to judge drift on."""
        return self.status_code is not None and self.status_code >= FIRST_ERROR_STATUS


@dataclass(frozen=True, slots=True)
class LabelRow:
    request_id: str
    value: Any
    timestamp: datetime


def _check_timestamp(
    value: datetime | None, now: datetime, loc: tuple[str | int, ...], errors: ErrorCollector
) -> datetime:
    if value is None:
        return now
    if value.tzinfo is None:
        errors.add(
            loc,
            "timestamp has no zone; send RFC 3339 with an offset, e.g. 2026-11-23T13:00:00Z",
            "value_error.naive_datetime",
        )
    return value


def _all_finite(numbers: list[Any]) -> bool:
    """No float among `numbers` is NaN or infinite (False also where a huge sum overflows)."""
    try:
        return isfinite(sum(numbers, 0.0))
    except OverflowError:  # an integer too large for a float
        return False


def _features_stored_as_is(schema: ModelSchema, values: Sequence[dict[str, Any]]) -> bool:
    """Whether every record names exactly the schema's features, each with a value that
    `check_feature_value` would return unchanged. Checked a column at a time in C, so a clean
    batch skips the per-value checks; False only means that those checks must decide."""
    names = set(schema.feature_names)
    if not all(features.keys() == names for features in values):
        return False
    for feature in schema.features:
        column = list(map(itemgetter(feature.name), values))
        if not set(map(type, column)) <= _STORED_AS_IS[feature.kind]:
            return False
        if feature.kind is FeatureKind.NUMERICAL and not _all_finite(column):
            return False
        if feature.kind is FeatureKind.CATEGORICAL and max(map(len, column), default=0) > (
            MAX_CATEGORY_CHARACTERS
        ):
            return False
    return True


def _check_cardinality(
    schema: ModelSchema,
    rows: Sequence[dict[str, Any]],
    loc: tuple[str | int, ...],
    errors: ErrorCollector,
) -> None:
    for feature in schema.features:
        if feature.kind is not FeatureKind.CATEGORICAL:
            continue
        values = (features.get(feature.name) for features in rows)
        distinct = {value for value in values if isinstance(value, str | int)}
        if len(distinct) > MAX_CATEGORIES_PER_BATCH:
            errors.add(
                loc,
                f"feature {feature.name!r} takes {len(distinct)} distinct values in this batch; "
                f"a categorical feature takes at most {MAX_CATEGORIES_PER_BATCH} per batch "
                "(send codes, not identifiers or free text, or declare the feature numerical)",
                "value_error.too_many_categories",
            )


def _checked_features(
    schema: ModelSchema,
    specs: dict[str, FeatureSpec],
    given: dict[str, Any],
    loc: tuple[str | int, ...],
    errors: ErrorCollector,
) -> dict[str, Any]:
    """One record's features in stored form; every problem goes to `errors`."""
    features: dict[str, Any] = {}
    for name, value in given.items():
        spec = specs.get(name)
        if spec is None:
            errors.add(
                (*loc, "features", name),
                f"unknown feature {name!r}; this model's features are "
                f"{schema.feature_names[:20]} (add it with PATCH /api/v1/models/{{model}})",
                "value_error.unknown_feature",
            )
            continue
        if value is None:
            if not spec.nullable:
                errors.add(
                    (*loc, "features", name),
                    f"feature {name!r} is not nullable; send a value, or declare it nullable",
                    "value_error.missing",
                )
            features[name] = None
            continue
        try:
            features[name] = check_feature_value(spec.kind, value)
        except InvalidValue as problem:
            errors.add((*loc, "features", name), str(problem), problem.kind)
    for spec in schema.features:
        if spec.name not in given:
            if spec.nullable:
                features[spec.name] = None
            else:
                errors.add(
                    (*loc, "features", spec.name),
                    f"feature {spec.name!r} is missing and is not nullable",
                    "value_error.missing",
                )
    return features


def _checked_prediction(
    schema: ModelSchema, record: InferenceIn, loc: tuple[str | int, ...], errors: ErrorCollector
) -> Any:
    if record.prediction is None:
        # A failed request has no output; it is stored for error rates, not for drift.
        if record.status_code is None or record.status_code < FIRST_ERROR_STATUS:
            errors.add(
                (*loc, "prediction"),
                "prediction is null; send the model's output, or the failed request's "
                f"status_code (>= {FIRST_ERROR_STATUS}) with it",
                "value_error.missing",
            )
        return None
    try:
        return check_prediction(schema, record.prediction)
    except InvalidValue as problem:
        errors.add((*loc, "prediction"), str(problem), problem.kind)
        return None


def validate_inferences(
    schema: ModelSchema, records: Sequence[InferenceIn], now: datetime
) -> list[InferenceRow]:
    """Check `records` against `schema`; raise `BatchRejected` naming every bad field."""
    errors = ErrorCollector()
    specs = {feature.name: feature for feature in schema.features}
    given = [record.features for record in records]
    features_as_is = _features_stored_as_is(schema, given)
    _check_cardinality(schema, given, ("body", "records"), errors)
    rows: list[InferenceRow] = []
    for index, record in enumerate(records):
        loc = ("body", "records", index)
        if features_as_is:
            features = record.features
        else:
            features = _checked_features(schema, specs, record.features, loc, errors)
        prediction = _checked_prediction(schema, record, loc, errors)
        timestamp = _check_timestamp(record.timestamp, now, (*loc, "timestamp"), errors)
        if not errors:
            rows.append(
                InferenceRow(
                    request_id=record.request_id,
                    timestamp=timestamp,
                    model_version=record.model_version,
                    variant=record.variant.value if record.variant else None,
                    features=features,
                    prediction=prediction,
                    latency_ms=record.latency_ms,
                    status_code=record.status_code,
                )
            )
    if errors:
        raise BatchRejected(errors, "records")
    return rows


def validate_feature_rows(
    schema: ModelSchema, rows: Sequence[dict[str, Any]], loc: tuple[str | int, ...]
) -> list[dict[str, Any]]:
    """Check the features of records whose prediction comes separately (a KServe request event);
    raise `BatchRejected` naming `(*loc, index, "features", name)` for every bad value."""
    errors = ErrorCollector()
    specs = {feature.name: feature for feature in schema.features}
    _check_cardinality(schema, rows, loc, errors)
    if not errors and _features_stored_as_is(schema, rows):
        return list(rows)
    checked = [
        _checked_features(schema, specs, features, (*loc, index), errors)
        for index, features in enumerate(rows)
    ]
    if errors:
        raise BatchRejected(errors, "records")
    return checked


def validate_labels(
    schema: ModelSchema, labels: Sequence[LabelIn], now: datetime
) -> list[LabelRow]:
    """Check `labels`; within one batch a later label for the same request id wins."""
    errors = ErrorCollector()
    rows: dict[str, LabelRow] = {}
    for index, label in enumerate(labels):
        loc = ("body", "labels", index)
        try:
            value = check_label(schema, label.label)
        except InvalidValue as problem:
            errors.add((*loc, "label"), str(problem), problem.kind)
            continue
        timestamp = _check_timestamp(label.timestamp, now, (*loc, "timestamp"), errors)
        rows[label.request_id] = LabelRow(label.request_id, value, timestamp)
    if errors:
        raise BatchRejected(errors, "labels")
    return list(rows.values())

"""Whole-batch validation of inference records and labels: every record is checked before any
is written, and every problem is reported with the record's index and field."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.entities.inference import InferenceIn
from monitor.entities.label import LabelIn
from monitor.entities.registered_model import ModelSchema
from monitor.ingest.errors import BatchRejected, ErrorCollector
from monitor.ingest.values import InvalidValue, check_feature_value, check_label, check_prediction


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


def validate_inferences(
    schema: ModelSchema, records: Sequence[InferenceIn], now: datetime
) -> list[InferenceRow]:
    """Check `records` against `schema`; raise `BatchRejected` naming every bad field."""
    errors = ErrorCollector()
    specs = {feature.name: feature for feature in schema.features}
    rows: list[InferenceRow] = []
    for index, record in enumerate(records):
        loc = ("body", "records", index)
        features: dict[str, Any] = {}
        for name, value in record.features.items():
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
            if spec.name not in record.features:
                if spec.nullable:
                    features[spec.name] = None
                else:
                    errors.add(
                        (*loc, "features", spec.name),
                        f"feature {spec.name!r} is missing and is not nullable",
                        "value_error.missing",
                    )
        try:
            prediction = check_prediction(schema, record.prediction)
        except InvalidValue as problem:
            errors.add((*loc, "prediction"), str(problem), problem.kind)
            prediction = None
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

"""Inference payloads of KServe's two HTTP protocols, mapped onto a model's schema.

V1 (`{"instances": [...]}` in, `{"predictions": [...]}` out): an instance is a list of feature
values in the schema's feature order, or an object of feature name to value. Open Inference
Protocol v2 (`{"inputs": [tensor, ...]}` in, `{"outputs": [tensor, ...]}` out), a tensor being
`{"name", "shape", "datatype", "data"}`: either one input of shape `[N, F]` whose F columns are
the features in schema order, or one input per feature, named as the feature, of shape `[N]` or
`[N, 1]`. A prediction is the instance's output row: one value (a number or a class label), or
one probability per class label. Every problem is collected, with the path of the field.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from typing import Any

from monitor.entities.registered_model import ModelSchema
from monitor.ingest.errors import BatchRejected, ErrorCollector
from monitor.ingest.values import InvalidValue, check_prediction

Loc = tuple[str | int, ...]
# Most instances one event may carry: more is a bulk load, which belongs on the inferences API.
MAX_INSTANCES = 10_000
V2_DATATYPES = frozenset(
    [
        "BOOL",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "FP16",
        "FP32",
        "FP64",
        "BF16",
        "BYTES",
    ]
)


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    shape: tuple[int, ...]
    values: list[Any]  # row-major, flattened


def _refuse(loc: Loc, message: str, kind: str = "value_error") -> BatchRejected:
    errors = ErrorCollector()
    errors.add(loc, message, kind)
    return BatchRejected(errors, "records")


def _flattened(data: Any) -> Iterator[Any]:
    if isinstance(data, list):
        for item in data:
            yield from _flattened(item)
    else:
        yield data


def _tensor(raw: Any, loc: Loc) -> Tensor:
    """One v2 tensor, its data flattened and checked against its shape."""
    if not isinstance(raw, dict):
        raise _refuse(
            loc, "a tensor is an object with name, shape, datatype and data", "type_error"
        )
    for field, kind in (("name", str), ("shape", list), ("datatype", str), ("data", list)):
        if not isinstance(raw.get(field), kind):
            raise _refuse(
                (*loc, field),
                f"a v2 tensor needs {field!r} ({kind.__name__}); binary tensor data "
                "(Inference-Header-Content-Length) cannot be logged, send JSON data",
                "value_error.missing",
            )
    shape = raw["shape"]
    if not all(
        isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape
    ):
        raise _refuse((*loc, "shape"), f"shape must be non-negative integers, got {shape!r}")
    if raw["datatype"] not in V2_DATATYPES:
        raise _refuse(
            (*loc, "datatype"),
            f"unknown datatype {raw['datatype']!r}; expected one of {sorted(V2_DATATYPES)}",
        )
    values = list(_flattened(raw["data"]))
    if len(values) != prod(shape):
        raise _refuse(
            (*loc, "data"),
            f"tensor {raw['name']!r} of shape {shape} needs {prod(shape)} values, "
            f"got {len(values)}",
        )
    return Tensor(raw["name"], tuple(shape), values)


def _instances_count(count: int, loc: Loc) -> int:
    if count == 0:
        raise _refuse(loc, "the payload holds no instance; nothing to log", "value_error.empty")
    if count > MAX_INSTANCES:
        raise _refuse(
            loc,
            f"{count} instances in one event; at most {MAX_INSTANCES} (send bulk loads to "
            "POST /api/v1/models/{model}/inferences)",
            "value_error.too_many",
        )
    return count


def _v1_features(schema: ModelSchema, instances: Any) -> list[dict[str, Any]]:
    loc: Loc = ("body", "instances")
    if not isinstance(instances, list):
        raise _refuse(loc, "instances must be a list of instances", "type_error")
    _instances_count(len(instances), loc)
    names = schema.feature_names
    rows = []
    for index, instance in enumerate(instances):
        if isinstance(instance, dict):
            rows.append(instance)
        elif isinstance(instance, list) and len(instance) == len(names):
            rows.append(dict(zip(names, instance, strict=True)))
        else:
            raise _refuse(
                (*loc, index),
                f"an instance is a list of {len(names)} values in feature order {names[:20]}, "
                f"or an object of feature name to value; got {type(instance).__name__}"
                + (f" of {len(instance)} values" if isinstance(instance, list) else ""),
                "type_error",
            )
    return rows


def _rows_of(tensor: Tensor) -> int:
    return tensor.shape[0] if tensor.shape else 1


def _v2_features(schema: ModelSchema, inputs: Any) -> list[dict[str, Any]]:
    loc: Loc = ("body", "inputs")
    if not isinstance(inputs, list) or not inputs:
        raise _refuse(loc, "inputs must be a non-empty list of tensors", "type_error")
    tensors = [_tensor(raw, (*loc, index)) for index, raw in enumerate(inputs)]
    names = schema.feature_names
    if len(tensors) == 1 and len(tensors[0].shape) == 2 and tensors[0].shape[1] == len(names):
        columns = len(names)
        values = tensors[0].values
        count = _instances_count(tensors[0].shape[0], loc)
        return [
            dict(zip(names, values[row * columns : (row + 1) * columns], strict=True))
            for row in range(count)
        ]
    unknown = [tensor.name for tensor in tensors if tensor.name not in set(names)]
    if unknown:
        raise _refuse(
            loc,
            f"inputs {unknown[:10]} are not features of this model; send one input of shape "
            f"[N, {len(names)}] (features in order {names[:20]}), or one input per feature "
            "named as the feature",
            "value_error.unknown_feature",
        )
    count = _instances_count(_rows_of(tensors[0]), loc)
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for index, tensor in enumerate(tensors):
        if tensor.shape not in ((count,), (count, 1)):
            raise _refuse(
                (*loc, index, "shape"),
                f"input {tensor.name!r} has shape {list(tensor.shape)}; a per-feature input "
                f"has shape [{count}] or [{count}, 1], one value per instance",
            )
        for row, value in zip(rows, tensor.values, strict=True):
            row[tensor.name] = value
    return rows


def request_features(schema: ModelSchema, payload: Any) -> list[dict[str, Any]]:
    """The feature values of each instance of a v1 or v2 request body (not yet checked)."""
    if isinstance(payload, dict) and "instances" in payload:
        return _v1_features(schema, payload["instances"])
    if isinstance(payload, dict) and isinstance(payload.get("inputs"), list):
        return _v2_features(schema, payload["inputs"])
    raise _refuse(
        ("body",),
        "a request event's data is a v1 body with `instances` or a v2 body with `inputs` "
        "(a list of tensors)",
        "value_error.missing",
    )


def _prediction(schema: ModelSchema, value: Any) -> Any:
    """One instance's output row as the inferences API takes a prediction."""
    if isinstance(value, list):
        labels = schema.class_labels or []
        if len(value) == 1:
            return value[0]
        if labels and len(value) == len(labels):
            return dict(zip(labels, value, strict=True))
        raise InvalidValue(
            f"an output row of {len(value)} values is neither one prediction nor one "
            f"probability per class label {labels}",
            "value_error.shape",
        )
    return value


def _checked_predictions(schema: ModelSchema, rows: list[Any], loc: Loc) -> list[Any]:
    errors = ErrorCollector()
    predictions = []
    for index, row in enumerate(rows):
        try:
            predictions.append(check_prediction(schema, _prediction(schema, row)))
        except InvalidValue as problem:
            errors.add((*loc, index), str(problem), problem.kind)
    if errors:
        raise BatchRejected(errors, "records")
    return predictions


def _v2_output(outputs: Any, wanted: str | None) -> Tensor:
    loc: Loc = ("body", "outputs")
    if not isinstance(outputs, list) or not outputs:
        raise _refuse(loc, "outputs must be a non-empty list of tensors", "type_error")
    tensors = [_tensor(raw, (*loc, index)) for index, raw in enumerate(outputs)]
    if wanted is None and len(tensors) == 1:
        return tensors[0]
    for tensor in tensors:
        if tensor.name == wanted:
            return tensor
    names = [tensor.name for tensor in tensors]
    hint = "several outputs" if wanted is None else f"no output named {wanted!r}"
    raise _refuse(
        loc,
        f"{hint} in {names[:10]}; name the prediction's output with `?output=<name>` on the "
        "logger url",
        "value_error.ambiguous_output",
    )


def response_predictions(schema: ModelSchema, payload: Any, output: str | None) -> list[Any]:
    """The checked prediction of each instance of a v1 or v2 response body; `output` names the
    v2 output tensor that holds the prediction when there are several."""
    if isinstance(payload, dict) and "predictions" in payload:
        rows = payload["predictions"]
        loc: Loc = ("body", "predictions")
        if not isinstance(rows, list):
            raise _refuse(loc, "predictions must be a list, one per instance", "type_error")
        _instances_count(len(rows), loc)
        return _checked_predictions(schema, rows, loc)
    if isinstance(payload, dict) and isinstance(payload.get("outputs"), list):
        tensor = _v2_output(payload["outputs"], output)
        count = _instances_count(_rows_of(tensor), ("body", "outputs"))
        width = len(tensor.values) // count if count else 0
        rows = (
            tensor.values
            if width == 1
            else [tensor.values[row * width : (row + 1) * width] for row in range(count)]
        )
        return _checked_predictions(schema, rows, ("body", "outputs", tensor.name))
    raise _refuse(
        ("body",),
        "a response event's data is a v1 body with `predictions` or a v2 body with `outputs` "
        "(a list of tensors)",
        "value_error.missing",
    )


def response_model_version(payload: Any) -> str | None:
    """The version a v2 response names (`model_version`), if it is a short string."""
    version = payload.get("model_version") if isinstance(payload, dict) else None
    return version if isinstance(version, str) and 0 < len(version) <= 128 else None

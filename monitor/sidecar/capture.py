"""What a served request becomes in the inference log: features and predictions read out of
MLflow scoring and Open Inference Protocol v2 bodies, one record per input row.

Rows are named by the model's feature names (positional inputs in schema order), and class
probabilities are keyed by its class labels; docs/sidecar.md lists every shape understood.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson

from monitor.sidecar.routing import SHADOW

# Output tensors that hold class probabilities, preferred over the first output.
PROBABILITY_OUTPUTS = ("predict_proba", "probabilities")
MLFLOW_INPUTS = ("dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass(frozen=True, slots=True)
class ModelShape:
    """What capture needs of the registered model. (Not `ModelShape`: importing the entities
    would load the whole service into every sidecar.)"""

    feature_names: tuple[str, ...]
    class_labels: tuple[str, ...]
    regression: bool

    @classmethod
    def of(cls, model: dict[str, Any]) -> "ModelShape":
        """From the body of `GET /api/v1/models/{model}`."""
        return cls(
            tuple(feature["name"] for feature in model["features"]),
            tuple(model.get("class_labels") or ()),
            model["task"] == "regression",
        )


class CaptureError(ValueError):
    """A body this sidecar cannot turn into records; the request was still served."""


class Protocol(StrEnum):
    MLFLOW = "mlflow"
    V2 = "v2"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One proxied call as it happened; parsed into records later, off the request path."""

    protocol: Protocol
    request_id: str
    time: float
    variant: str
    model_version: str | None
    latency_ms: float
    status_code: int
    request_body: bytes
    response_body: bytes


Row = dict[str, Any]


def records(schema: ModelShape, exchange: Exchange) -> list[dict[str, Any]]:
    """The exchange as inference records; a failed call gets `prediction: null` on every row."""
    rows = _read(_FEATURES[exchange.protocol], schema, exchange.request_body, "request")
    if exchange.status_code >= 400:
        predictions: list[Any] = [None] * len(rows)
    else:
        read = _PREDICTIONS[exchange.protocol]
        predictions = _read(read, schema, exchange.response_body, "response")
        if len(predictions) != len(rows):
            raise CaptureError(
                f"the response holds {len(predictions)} predictions for {len(rows)} input rows"
            )
    timestamp = datetime.fromtimestamp(exchange.time, UTC)
    suffix = "#shadow" if exchange.variant == SHADOW else ""
    single = len(rows) == 1
    return [
        {
            "request_id": f"{exchange.request_id}{suffix}"
            if single
            else f"{exchange.request_id}:{index}{suffix}",
            "timestamp": timestamp,
            "model_version": exchange.model_version,
            "variant": exchange.variant,
            "features": row,
            "prediction": prediction,
            "latency_ms": exchange.latency_ms,
            "status_code": exchange.status_code,
        }
        for index, (row, prediction) in enumerate(zip(rows, predictions, strict=True))
    ]


def _read(
    parse: Callable[[ModelShape, Any], list[Any]], schema: ModelShape, body: bytes, what: str
) -> list[Any]:
    try:
        return parse(schema, orjson.loads(body))
    except orjson.JSONDecodeError as error:
        raise CaptureError(f"the {what} body is not JSON ({error})") from error
    except CaptureError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
        raise CaptureError(f"the {what} body has an unexpected shape ({error!r})") from error


def _named(schema: ModelShape, row: Any) -> Row:
    """A row of named or positional values, keyed by the model's features (other keys, such as
    ids the model ignores, are left out: the control plane would refuse them)."""
    names = schema.feature_names
    if isinstance(row, dict):
        return {name: row[name] for name in names if name in row}
    values = row if isinstance(row, list) else [row]
    if len(values) != len(names):
        raise CaptureError(
            f"an input row has {len(values)} values but the model has {len(names)} features "
            f"{list(names[:10])}; positional rows must list every feature in schema order"
        )
    return dict(zip(names, values, strict=True))


def mlflow_features(schema: ModelShape, body: Any) -> list[Row]:
    """Rows of an MLflow scoring request: `dataframe_split`, `dataframe_records`, `instances`
    or `inputs` (rows, or columns keyed by feature name)."""
    if not isinstance(body, dict) or not any(key in body for key in MLFLOW_INPUTS):
        raise CaptureError(
            f"an MLflow scoring request is a JSON object with one of {MLFLOW_INPUTS}"
        )
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        columns = split.get("columns")
        if columns is None:
            return [_named(schema, row) for row in split["data"]]
        return [_named(schema, dict(zip(columns, row, strict=True))) for row in split["data"]]
    if "dataframe_records" in body:
        return [_named(schema, row) for row in body["dataframe_records"]]
    tensors = body["instances"] if "instances" in body else body["inputs"]
    if isinstance(tensors, dict):
        return _columns_to_rows(schema, tensors)
    return [_named(schema, row) for row in tensors]


def _columns_to_rows(schema: ModelShape, columns: dict[str, Any]) -> list[Row]:
    named = {name: values for name, values in columns.items() if name in schema.feature_names}
    if not named:
        raise CaptureError(
            f"no input column is one of the model's features {list(schema.feature_names)}"
        )
    lists = {name: v if isinstance(v, list) else [v] for name, v in named.items()}
    lengths = {len(values) for values in lists.values()}
    if len(lengths) != 1:
        raise CaptureError(f"input columns differ in length: {sorted(lengths)}")
    return [dict(zip(lists, values, strict=True)) for values in zip(*lists.values(), strict=True)]


def mlflow_predictions(schema: ModelShape, body: Any) -> list[Any]:
    """`{"predictions": [...]}` (or a bare list): one prediction per row, or columns of them."""
    values = body.get("predictions") if isinstance(body, dict) else body
    if isinstance(values, dict):
        values = [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]
    if not isinstance(values, list):
        raise CaptureError('an MLflow scoring response is {"predictions": [...]}')
    return [prediction(schema, value) for value in values]


def prediction(schema: ModelShape, value: Any) -> Any:
    """One model output as the control plane takes it: a number, a class label, or class
    probabilities keyed by the model's class labels."""
    if isinstance(value, list):
        if len(value) == 1:
            return prediction(schema, value[0])
        labels = schema.class_labels
        if schema.regression or len(value) != len(labels):
            raise CaptureError(
                f"a prediction of {len(value)} values does not match the class labels "
                f"{list(labels)}"
            )
        return dict(zip(labels, value, strict=True))
    if schema.regression or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        label = str(int(value))  # a class index serialised as a float, e.g. 1.0
        if label in schema.class_labels:
            return label
    return value


def v2_features(schema: ModelShape, body: Any) -> list[Row]:
    """Rows of an OIP v2 request: one tensor per feature, or one 2-D tensor of all features."""
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise CaptureError('an Open Inference Protocol request is {"inputs": [tensors]}')
    names = set(schema.feature_names)
    if all(tensor.get("name") in names for tensor in inputs):
        columns = {tensor["name"]: _flat(tensor) for tensor in inputs}
        return _columns_to_rows(schema, columns)
    if len(inputs) == 1:
        return [_named(schema, row) for row in _matrix(inputs[0])]
    raise CaptureError(
        f"input tensors {[t.get('name') for t in inputs]} are neither one per feature (named as "
        f"the model's features) nor one 2-D tensor with the features in schema order"
    )


def v2_predictions(schema: ModelShape, body: Any) -> list[Any]:
    """The rows of the probabilities output when there is one, else of the first output."""
    outputs = body.get("outputs") if isinstance(body, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise CaptureError('an Open Inference Protocol response is {"outputs": [tensors]}')
    chosen = next((o for o in outputs if o.get("name") in PROBABILITY_OUTPUTS), outputs[0])
    return [prediction(schema, row) for row in _matrix(chosen)]


def _flat(tensor: dict[str, Any]) -> list[Any]:
    data = tensor.get("data")
    if not isinstance(data, list):
        raise CaptureError(f"tensor {tensor.get('name')!r} has no data list")
    if data and isinstance(data[0], list):
        flat: list[Any] = []
        stack = [data]
        while stack:  # row-major flattening of nested lists, without recursion limits
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            else:
                flat.append(item)
        return flat
    return data


def _matrix(tensor: dict[str, Any]) -> list[list[Any]]:
    """A tensor's rows: the first dimension is the batch, the rest is flattened per row."""
    flat = _flat(tensor)
    shape = tensor.get("shape") or [len(flat)]
    width = math.prod(shape[1:])
    if len(flat) != shape[0] * width:
        raise CaptureError(
            f"tensor {tensor.get('name')!r} has {len(flat)} values for its shape {shape}"
        )
    return [flat[row * width : (row + 1) * width] for row in range(shape[0])]


_FEATURES: dict[Protocol, Callable[[ModelShape, Any], list[Row]]] = {
    Protocol.MLFLOW: mlflow_features,
    Protocol.V2: v2_features,
}
_PREDICTIONS: dict[Protocol, Callable[[ModelShape, Any], list[Any]]] = {
    Protocol.MLFLOW: mlflow_predictions,
    Protocol.V2: v2_predictions,
}

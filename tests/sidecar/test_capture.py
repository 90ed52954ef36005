"""Capture: every MLflow scoring and OIP v2 body shape becomes one record per input row, with
features named by the model's schema and probabilities keyed by its class labels."""

from typing import Any

import orjson
import pytest

from monitor.sidecar.capture import CaptureError, Exchange, ModelShape, Protocol, records

IRIS = ModelShape.of(
    {
        "task": "multiclass_classification",
        "features": [{"name": n, "kind": "numerical"} for n in ("sl", "sw", "pl", "pw")],
        "class_labels": ["setosa", "versicolor", "virginica"],
    }
)
PRICE = ModelShape.of(
    {
        "task": "regression",
        "features": [
            {"name": "rooms", "kind": "numerical"},
            {"name": "city", "kind": "categorical"},
        ],
        "class_labels": None,
    }
)
ROWS = [{"sl": 5.1, "sw": 3.5, "pl": 1.4, "pw": 0.2}, {"sl": 6.0, "sw": 3.0, "pl": 5.0, "pw": 2.0}]
VALUES = [list(row.values()) for row in ROWS]
PROBABILITIES = [[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]]
AS_CLASSES = [
    {"setosa": 0.9, "versicolor": 0.1, "virginica": 0.0},
    {"setosa": 0.0, "versicolor": 0.2, "virginica": 0.8},
]


def _exchange(
    request: Any,
    response: Any,
    *,
    protocol: Protocol = Protocol.MLFLOW,
    status: int = 200,
    variant: str = "stable",
) -> Exchange:
    return Exchange(
        protocol=protocol,
        request_id="abc",
        time=1_795_000_000.0,
        variant=variant,
        model_version="3",
        latency_ms=4.5,
        status_code=status,
        request_body=orjson.dumps(request),
        response_body=orjson.dumps(response),
    )


def _captured(schema: ModelShape, exchange: Exchange) -> list[tuple[Any, Any]]:
    return [(r["features"], r["prediction"]) for r in records(schema, exchange)]


@pytest.mark.parametrize(
    "request_body",
    [
        {"dataframe_split": {"columns": ["sl", "sw", "pl", "pw"], "data": VALUES}},
        {"dataframe_split": {"index": [7, 8], "columns": ["pw", "pl", "sw", "sl"], "data": [
            row[::-1] for row in VALUES]}},
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"instances": VALUES},
        {"inputs": VALUES},
        {"inputs": {"sl": [5.1, 6.0], "sw": [3.5, 3.0], "pl": [1.4, 5.0], "pw": [0.2, 2.0]}},
    ],
    ids=["split", "split-reordered", "records", "instances-named", "instances-positional",
         "inputs-rows", "inputs-columns"],
)  # fmt: skip
def test_every_mlflow_input_shape_gives_named_rows(request_body: dict[str, Any]) -> None:
    exchange = _exchange(request_body, {"predictions": PROBABILITIES})
    assert _captured(IRIS, exchange) == list(zip(ROWS, AS_CLASSES, strict=True))


def test_columns_the_model_does_not_have_are_left_out() -> None:
    body = {"dataframe_records": [{**ROWS[0], "customer_id": "c-17"}]}
    (record,) = records(IRIS, _exchange(body, {"predictions": [PROBABILITIES[0]]}))
    assert record["features"] == ROWS[0]


@pytest.mark.parametrize(
    ("schema", "outputs", "expected"),
    [
        (PRICE, [312000.5], 312000.5),
        (PRICE, [[312000.5]], 312000.5),
        (IRIS, ["virginica"], "virginica"),
        (IRIS, [2], "2"),
        (IRIS, [PROBABILITIES[1]], AS_CLASSES[1]),
        (IRIS, [AS_CLASSES[1]], AS_CLASSES[1]),
    ],
    ids=["number", "one-element-list", "label", "class-index", "probabilities", "object"],
)
def test_each_mlflow_prediction_shape(
    schema: ModelShape, outputs: list[Any], expected: Any
) -> None:
    row = {"rooms": 3, "city": "Oslo"} if schema is PRICE else ROWS[1]
    exchange = _exchange({"dataframe_records": [row]}, {"predictions": outputs})
    assert _captured(schema, exchange) == [(row, expected)]


def test_bare_list_response_is_read_as_predictions() -> None:
    exchange = _exchange({"dataframe_records": ROWS}, PROBABILITIES)
    assert [p for _, p in _captured(IRIS, exchange)] == AS_CLASSES


def _tensor(name: str, shape: list[int], data: list[Any], datatype: str = "FP64") -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


@pytest.mark.parametrize(
    "inputs",
    [
        [_tensor(n, [2], [r[n] for r in ROWS]) for n in ("pw", "sl", "pl", "sw")],
        [_tensor(n, [2, 1], [[r[n]] for r in ROWS]) for n in ("sl", "sw", "pl", "pw")],
        [_tensor("input__0", [2, 4], [5.1, 3.5, 1.4, 0.2, 6.0, 3.0, 5.0, 2.0])],
        [_tensor("input-0", [2, 4], [[5.1, 3.5, 1.4, 0.2], [6.0, 3.0, 5.0, 2.0]])],
    ],
    ids=["tensor-per-feature", "tensor-per-feature-2d", "one-flat-2d-tensor", "one-nested-tensor"],
)
def test_every_v2_input_shape_gives_named_rows(inputs: list[dict[str, Any]]) -> None:
    response = {"outputs": [_tensor("predict_proba", [2, 3], [0.9, 0.1, 0.0, 0.0, 0.2, 0.8])]}
    exchange = _exchange({"inputs": inputs}, response, protocol=Protocol.V2)
    assert _captured(IRIS, exchange) == list(zip(ROWS, AS_CLASSES, strict=True))


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ([_tensor("label", [2], ["setosa", "virginica"], "BYTES")], ["setosa", "virginica"]),
        ([_tensor("output__0", [2, 1], [0, 2], "INT64")], ["0", "2"]),
        (
            [
                _tensor("label", [2], ["setosa", "virginica"], "BYTES"),
                _tensor("probabilities", [2, 3], PROBABILITIES),
            ],
            AS_CLASSES,
        ),
    ],
    ids=["first-output-labels", "first-output-indexes", "named-probabilities"],
)
def test_v2_outputs_give_one_prediction_per_row(
    outputs: list[dict[str, Any]], expected: list[Any]
) -> None:
    request = {"inputs": [_tensor("input__0", [2, 4], [v for r in ROWS for v in r.values()])]}
    exchange = _exchange(request, {"model_name": "iris", "outputs": outputs}, protocol=Protocol.V2)
    assert [p for _, p in _captured(IRIS, exchange)] == expected


def test_record_ids_name_the_row_and_the_shadow() -> None:
    body, answer = {"dataframe_records": ROWS}, {"predictions": PROBABILITIES}
    served = records(
        IRIS, _exchange({"dataframe_records": ROWS[:1]}, {"predictions": PROBABILITIES[:1]})
    )
    multi = records(IRIS, _exchange(body, answer))
    shadow = records(IRIS, _exchange(body, answer, variant="shadow"))
    assert [r["request_id"] for r in served] == ["abc"]
    assert [r["request_id"] for r in multi] == ["abc:0", "abc:1"]
    assert [r["request_id"] for r in shadow] == ["abc:0#shadow", "abc:1#shadow"]


def test_records_carry_the_call_as_served() -> None:
    (record,) = records(IRIS, _exchange({"instances": ROWS[:1]}, {"predictions": ["setosa"]}))
    assert {k: record[k] for k in ("variant", "model_version", "latency_ms", "status_code")} == {
        "variant": "stable",
        "model_version": "3",
        "latency_ms": 4.5,
        "status_code": 200,
    }
    assert record["timestamp"].isoformat() == "2026-11-18T11:06:40+00:00"


def test_failed_call_is_captured_with_null_predictions() -> None:
    answer = {"error_code": "BAD_REQUEST", "message": "Input X contains NaN."}
    exchange = _exchange({"dataframe_records": ROWS}, answer, status=400)
    assert [p for _, p in _captured(IRIS, exchange)] == [None, None]


def test_unreachable_model_server_is_captured_from_the_request_alone() -> None:
    exchange = _exchange({"dataframe_records": ROWS[:1]}, None, status=502)
    assert _captured(IRIS, exchange) == [(ROWS[0], None)]


@pytest.mark.parametrize(
    ("request_body", "response", "message"),
    [
        ({"instances": [[5.1, 3.5]]}, {"predictions": ["setosa"]}, "2 values but the model has 4"),
        ({"dataframe_records": ROWS}, {"predictions": ["setosa"]}, "1 predictions for 2 input"),
        ({"data": ROWS}, {"predictions": ["setosa"]}, "one of ('dataframe_split'"),
        ({"instances": ROWS[:1]}, {"predictions": [[0.5, 0.5]]}, "does not match the class"),
        ({"dataframe_split": {"columns": ["sl"]}}, {"predictions": []}, "unexpected shape"),
    ],
    ids=[
        "short-positional-row",
        "count-mismatch",
        "unknown-format",
        "probability-width",
        "no-data",
    ],
)
def test_bodies_that_cannot_be_captured_say_why(
    request_body: dict[str, Any], response: dict[str, Any], message: str
) -> None:
    with pytest.raises(CaptureError, match=message.replace("(", r"\(")):
        records(IRIS, _exchange(request_body, response))


def test_non_json_request_cannot_be_captured() -> None:
    exchange = Exchange(Protocol.MLFLOW, "x", 0.0, "stable", None, 1.0, 200, b"a,b\n1,2", b"[]")
    with pytest.raises(CaptureError, match="request body is not JSON"):
        records(IRIS, exchange)

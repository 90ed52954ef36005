"""KServe payload-logger CloudEvents, built with the `cloudevents` SDK in binary content mode
with the attributes KServe's agent sets (kserve/kserve pkg/logger/worker.go)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"
REQUEST_TIME = datetime(2026, 12, 3, 12, 0, 0, 123456, tzinfo=UTC)


def _go_time(moment: datetime) -> str:
    """RFC 3339 with nanoseconds and `Z`, as Go's time.Time marshals in the agent."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "789Z"


def kserve_event(
    kind: str,
    event_id: str,
    data: dict[str, Any],
    *,
    service: str = "churn",
    endpoint: str = "default",
    time: datetime = REQUEST_TIME,
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one event: `kind` is REQUEST or RESPONSE; a response's time is 12 ms
    after `time`, as if the model took that long."""
    occurred = time if kind == REQUEST else time + timedelta(milliseconds=12)
    attributes = {
        "specversion": "1.0",
        "id": event_id,
        "type": kind,
        "source": "http://localhost:9081/",
        "time": _go_time(occurred),
        "recordedtime": _go_time(occurred + timedelta(milliseconds=1)),
        "inferenceservicename": service,
        "namespace": "models",
        "component": "predictor",
        "endpoint": endpoint,
        "metadata": "{}",
        # The agent sends the inference request's content type with both events.
        "datacontenttype": "application/json",
    }
    headers, body = to_binary(CloudEvent(attributes, orjson.dumps(data)))
    return dict(headers), body


def v1_request(*instances: list[Any] | dict[str, Any]) -> dict[str, Any]:
    return {"instances": list(instances)}


def v1_response(*predictions: Any) -> dict[str, Any]:
    return {"predictions": list(predictions)}


def v2_tensor(name: str, shape: list[int], datatype: str, data: list[Any]) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def v2_request(*inputs: dict[str, Any]) -> dict[str, Any]:
    return {"id": "req", "inputs": list(inputs)}


def v2_response(*outputs: dict[str, Any], version: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model_name": "churn", "id": "req", "outputs": list(outputs)}
    if version is not None:
        body["model_version"] = version
    return body

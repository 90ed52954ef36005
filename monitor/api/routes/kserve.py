"""KServe's payload logger: the CloudEvents its agent posts (binary content mode), and how many
halves of request/response pairs wait for their other half."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from monitor.api.body import read_limited
from monitor.api.deps import (
    LoggerIngestKey,
    MetricsDep,
    ModelDep,
    ReadOrIngestKey,
    SessionDep,
    SettingsDep,
)
from monitor.api.responses import error_answer
from monitor.entities.kserve_pair import EventAccepted, PairingStatus
from monitor.entities.registered_model import RegisteredModel
from monitor.ingest.errors import BatchRejected
from monitor.kserve.cloudevent import REQUEST_TYPE, RESPONSE_TYPE, NotAnInferenceEvent, read_event
from monitor.services import kserve_events, models

router = APIRouter(tags=["kserve"])

_HEADERS = [
    ("ce-specversion", True, "`1.0`."),
    ("ce-id", True, "Shared by a request and its response; becomes the records' request_id."),
    ("ce-type", True, f"`{REQUEST_TYPE}` or `{RESPONSE_TYPE}`."),
    ("ce-source", False, "The agent's source URI (not used)."),
    ("ce-time", False, "RFC 3339: the request's is the records' timestamp."),
    ("ce-inferenceservicename", False, "The model, where the path does not name it."),
    ("ce-endpoint", False, "`default` (stored as variant stable) or `canary`."),
]
_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": name,
            "in": "header",
            "required": required,
            "description": description,
            "schema": {"type": "string", "maxLength": 1024},
        }
        for name, required, description in _HEADERS
    ],
    "requestBody": {
        "required": True,
        "description": 'The inference payload as the model server saw it: V1 `{"instances": '
        '[...]}` / `{"predictions": [...]}`, or Open Inference Protocol v2 `{"inputs": '
        '[tensor]}` / `{"outputs": [tensor]}`.',
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error_answer("Not a KServe inference CloudEvent in binary mode, or data not JSON"),
    401: error_answer("No valid API key (Bearer, or Basic with the key as password)"),
    403: error_answer("The key's scope cannot ingest"),
    404: error_answer("No model of that name is registered"),
    413: error_answer("The body is larger than MONITOR_MAX_REQUEST_BYTES"),
    422: error_answer("The payload does not fit the model's schema; nothing was stored"),
    503: error_answer("The database is unavailable; retry"),
}
_SUMMARY = "Log a KServe payload-logger CloudEvent (request or response)"
_DESCRIPTION = (
    "Point an InferenceService's `spec.predictor.logger.url` here (`mode: all`). A request and "
    "its response (same `ce-id`) land as one inference record per instance once both arrived, "
    "in either order; a half waits in the store for MONITOR_KSERVE_PAIR_WAIT_SECONDS. Answers "
    "200 (KServe's agent logs any other 2xx as an error)."
)
Output = Annotated[
    str | None,
    Query(
        max_length=256,
        description="The v2 output tensor that holds the prediction, where there are several.",
    ),
]


async def _land(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    model: RegisteredModel | None,
    output: str | None,
) -> EventAccepted:
    try:
        event = read_event(request.headers)
    except NotAnInferenceEvent as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from error
    if model is None:
        if event.inference_service is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "no ce-inferenceservicename header: name the model in the path, "
                "/api/v1/models/{model}/kserve/events",
            )
        model = await run_in_threadpool(
            models.get_model, session=session, name=event.inference_service
        )
    body = await read_limited(request, settings.max_request_bytes)
    if b"\\u0000" in body:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "the event's data holds a NUL character (\\u0000), which the store cannot keep",
        )
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the event's data is not JSON ({error}); only JSON inference payloads can be logged",
        ) from error
    try:
        result = await run_in_threadpool(
            kserve_events.ingest_event,
            session=session,
            model=model,
            event=event,
            payload=payload,
            output=output,
        )
    except BatchRejected:
        metrics.records_rejected.labels(model.name).inc()
        raise
    metrics.records_ingested.labels(model.name).inc(result.accepted)
    metrics.records_duplicate.labels(model.name).inc(result.duplicates)
    return result


@router.post(
    "/api/v1/kserve/events",
    dependencies=[LoggerIngestKey],
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    summary=_SUMMARY,
    description=_DESCRIPTION + " The model is named by `ce-inferenceservicename`.",
)
async def log_kserve_event(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    output: Output = None,
) -> EventAccepted:
    return await _land(request, session, settings, metrics, None, output)


@router.post(
    "/api/v1/models/{model}/kserve/events",
    dependencies=[LoggerIngestKey],
    openapi_extra=_OPENAPI,
    responses=_RESPONSES,
    summary=_SUMMARY + " for the model in the path",
    description=_DESCRIPTION + " The path names the model (`ce-inferenceservicename` is ignored).",
)
async def log_kserve_event_for_model(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    model: ModelDep,
    output: Output = None,
) -> EventAccepted:
    return await _land(request, session, settings, metrics, model, output)


@router.get(
    "/api/v1/models/{model}/kserve/pending",
    dependencies=[ReadOrIngestKey],
    summary="KServe events waiting for their other half, and those dropped after waiting",
)
def read_kserve_pending(
    session: SessionDep, settings: SettingsDep, model: ModelDep
) -> PairingStatus:
    return kserve_events.pairing_status(session=session, model=model, settings=settings)

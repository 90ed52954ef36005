"""The sidecar contract: inference records and late labels in, the traffic split out."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from monitor.api.body import read_limited
from monitor.api.deps import IngestKey, MetricsDep, ModelDep, ReadKey, SessionDep, SettingsDep
from monitor.api.errors import PayloadTooLarge
from monitor.entities.inference import InferenceBatch, InferencePage, IngestResult
from monitor.entities.label import LabelBatch, LabelResult
from monitor.entities.routing import Routing
from monitor.ingest.errors import BatchRejected
from monitor.services import inference_log, ingestion, routing

router = APIRouter(prefix="/api/v1/models/{model}", tags=["sidecar"])


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """`node` with every `#/$defs/...` reference replaced by its definition: those references
    resolve against the whole OpenAPI document, where no `$defs` exists."""
    if isinstance(node, dict):
        reference = node.get("$ref", "")
        if reference.startswith("#/$defs/"):
            return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    return node


def _json_body(model: type[Any]) -> dict[str, Any]:
    """OpenAPI text for routes that read their JSON body themselves (to bound its size)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inlined(schema, definitions)}},
        }
    }


def _check_batch_size(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise PayloadTooLarge(
            f"the batch holds {count} {what}; the limit is {limit} per request "
            "(split it, or raise MONITOR_MAX_BATCH_RECORDS)"
        )


@router.post(
    "/inferences",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[IngestKey],
    openapi_extra=_json_body(InferenceBatch),
    summary="Log inference records (idempotent on request_id)",
)
async def log_inferences(
    request: Request,
    session: SessionDep,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> IngestResult:
    body = await read_limited(request, settings.max_request_bytes)
    batch = InferenceBatch.model_validate_json(body)
    _check_batch_size(len(batch.records), settings.max_batch_records, "records")
    try:
        result = await run_in_threadpool(
            ingestion.ingest_inferences, session=session, model=model, batch=batch
        )
    except BatchRejected:
        metrics.records_rejected.labels(model.name).inc(len(batch.records))
        raise
    metrics.records_ingested.labels(model.name).inc(result.accepted)
    metrics.records_duplicate.labels(model.name).inc(result.duplicates)
    return result


@router.get("/inferences", dependencies=[ReadKey], summary="Read stored records by time range")
def read_inferences(
    session: SessionDep,
    model: ModelDep,
    start: Annotated[datetime | None, Query(description="Inclusive lower bound.")] = None,
    end: Annotated[datetime | None, Query(description="Exclusive upper bound.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> InferencePage:
    return inference_log.list_inferences(
        session=session, model=model, start=start, end=end, limit=limit, cursor=cursor
    )


@router.post(
    "/labels",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[IngestKey],
    openapi_extra=_json_body(LabelBatch),
    summary="Log ground-truth labels, joined on request_id",
)
async def log_labels(
    request: Request,
    session: SessionDep,
    model: ModelDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> LabelResult:
    body = await read_limited(request, settings.max_request_bytes)
    batch = LabelBatch.model_validate_json(body)
    _check_batch_size(len(batch.labels), settings.max_batch_records, "labels")
    result = await run_in_threadpool(
        ingestion.ingest_labels, session=session, model=model, batch=batch
    )
    metrics.labels_ingested.labels(model.name).inc(result.accepted + result.updated)
    return result


@router.get(
    "/routing",
    dependencies=[IngestKey],
    response_model=Routing,
    summary="The traffic split the sidecar applies now",
    responses={304: {"description": "Unchanged since the ETag sent in If-None-Match"}},
)
def read_routing(
    session: SessionDep,
    model: ModelDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    current = routing.current_routing(session=session, model=model)
    etag = f'"{model.id}-{current.revision}"'
    if if_none_match is not None and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(
        current.model_dump_json(), media_type="application/json", headers={"ETag": etag}
    )

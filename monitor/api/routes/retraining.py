"""Retraining: a model's pipeline (admin), runs by hand (admin), runs with their logs and lineage
(read), and the signed completion callback and training-data link of HTTP pipelines (authorised
by their HMAC signature, not by an API key)."""

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from monitor.api.body import read_limited
from monitor.api.deps import (
    AdminKey,
    EngineDep,
    ModelDep,
    Offset,
    ReadKey,
    RowId,
    SessionDep,
    SettingsDep,
)
from monitor.entities.retraining import (
    LineagesPublic,
    PipelineConfigured,
    PipelineIn,
    PipelinePublic,
    RetrainingRunDetail,
    RetrainingRunPublic,
    RetrainingRunsPublic,
    RetrainRequest,
    RetrainStatus,
    RetrainTrigger,
)
from monitor.services import retraining
from triggers.retraining import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected

router = APIRouter(tags=["retraining"])

MODEL = "/api/v1/models/{model}"
CALLBACK_BYTES = 1024 * 1024


@router.put(f"{MODEL}/pipeline", dependencies=[AdminKey], summary="Configure the pipeline")
def configure_pipeline(
    session: SessionDep, settings: SettingsDep, model: ModelDep, pipeline_in: PipelineIn
) -> PipelineConfigured:
    return retraining.configure_pipeline(
        session=session, settings=settings, model=model, pipeline_in=pipeline_in
    )


@router.get(f"{MODEL}/pipeline", dependencies=[ReadKey], summary="Read the pipeline")
def read_pipeline(session: SessionDep, model: ModelDep) -> PipelinePublic:
    return retraining.read_pipeline(session=session, model=model)


@router.post(
    f"{MODEL}/retraining/runs",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[AdminKey],
    summary="Retrain now (queued for the scheduler; poll the run)",
)
def retrain_now(
    session: SessionDep, model: ModelDep, request: RetrainRequest | None = None
) -> RetrainingRunPublic:
    run = retraining.request_run(
        session=session,
        model=model,
        trigger=RetrainTrigger.MANUAL,
        parameters=request.parameters if request else None,
    )
    return RetrainingRunPublic.of(run)


@router.get(f"{MODEL}/retraining/runs", dependencies=[ReadKey], summary="Runs, newest first")
def list_runs(
    session: SessionDep,
    model: ModelDep,
    status: RetrainStatus | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RetrainingRunsPublic:
    rows, count = retraining.list_runs(
        session=session, model=model, status=status, offset=offset, limit=limit
    )
    return RetrainingRunsPublic(data=rows, count=count)


@router.get(
    f"{MODEL}/retraining/runs/{{run_id}}",
    dependencies=[ReadKey],
    summary="A run with its logs, context, gate result and lineage",
)
def read_run(session: SessionDep, model: ModelDep, run_id: RowId) -> RetrainingRunDetail:
    return retraining.get_run(session=session, model=model, run_id=run_id)


@router.get(
    f"{MODEL}/retraining/lineage",
    dependencies=[ReadKey],
    summary="Versions retraining registered: event, run, MLflow run, verdict",
)
def list_lineage(
    session: SessionDep,
    model: ModelDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> LineagesPublic:
    rows, count = retraining.list_lineage(session=session, model=model, offset=offset, limit=limit)
    return LineagesPublic(data=rows, count=count)


def _unauthorised(error: SignatureRejected) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, str(error))


@router.post(
    "/api/v1/retraining/runs/{run_id}/callback",
    summary="Completion callback of an HTTP pipeline (HMAC-signed, no API key)",
)
async def callback(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    run_id: RowId,
    timestamp: Annotated[str | None, Header(alias=TIMESTAMP_HEADER)] = None,
    signature: Annotated[str | None, Header(alias=SIGNATURE_HEADER)] = None,
) -> RetrainingRunPublic:
    body = await read_limited(request, CALLBACK_BYTES)
    try:
        # Registering the version and running the gate take a while: off the event loop.
        return await run_in_threadpool(
            retraining.accept_callback,
            engine=engine,
            settings=settings,
            run_id=run_id,
            body=body,
            timestamp=timestamp,
            signature=signature,
        )
    except SignatureRejected as error:
        raise _unauthorised(error) from error


@router.get(
    "/api/v1/retraining/runs/{run_id}/training-data",
    response_class=FileResponse,
    summary="The training export of a run, behind the signed link its HTTP pipeline was given",
)
def training_data(
    engine: EngineDep, settings: SettingsDep, run_id: RowId, expires: int, signature: str
) -> FileResponse:
    try:
        path = retraining.training_data_path(
            engine=engine, settings=settings, run_id=run_id, expires=expires, signature=signature
        )
    except SignatureRejected as error:
        raise _unauthorised(error) from error
    return FileResponse(path, media_type="application/vnd.apache.parquet")

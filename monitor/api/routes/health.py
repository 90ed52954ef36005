"""Liveness, readiness and Prometheus metrics."""

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from monitor.api.deps import EngineDep, MetricsDep
from monitor.store.migrations import pending_heads

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store is reachable and its schema is current",
    responses={503: {"description": "Not ready; the body says why"}},
)
async def readyz(engine: EngineDep, response: Response) -> dict[str, str]:
    def check() -> str | None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            pending = pending_heads(engine)
        except SQLAlchemyError as error:
            return f"database unreachable: {type(error).__name__}"
        if pending:
            return f"migrations pending (run `monitor migrate`): {sorted(pending)}"
        return None

    problem = await run_in_threadpool(check)
    if problem is not None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable", "reason": problem}
    return {"status": "ready"}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""Maps service errors to HTTP answers whose detail names the field and the fix."""

import logging
import time

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from monitor.ingest.errors import BatchRejected
from monitor.services.errors import Conflict, NotFound, TooLarge, Unprocessable

log = logging.getLogger(__name__)

# A database that is away (restarting, failing over) is not a server bug: callers are told to
# retry, and operators get one log line per this many seconds of outage, not one per request.
DATABASE_RETRY_AFTER_SECONDS = 2
DATABASE_OUTAGE_LOG_SECONDS = 60.0


class _OutageLog:
    def __init__(self) -> None:
        self._logged_at = -DATABASE_OUTAGE_LOG_SECONDS

    def note(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._logged_at >= DATABASE_OUTAGE_LOG_SECONDS:
            self._logged_at = now
            log.warning(
                "database unavailable (%s); answering 503 with Retry-After until it is back",
                type(getattr(error, "orig", None) or error).__name__,
            )


class PayloadTooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def install_error_handlers(app: FastAPI) -> None:
    outage = _OutageLog()

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def database_unavailable(_: Request, error: Exception) -> JSONResponse:
        outage.note(error)
        return JSONResponse(
            {"detail": "the database is unavailable; retry shortly"},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(NotFound)
    async def not_found(_: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_404_NOT_FOUND)

    @app.exception_handler(Conflict)
    async def conflict(_: Request, error: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(Unprocessable)
    async def unprocessable(_: Request, error: Unprocessable) -> JSONResponse:
        detail = [{"loc": ["body", error.field], "msg": str(error), "type": "value_error"}]
        return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(BatchRejected)
    async def batch_rejected(_: Request, error: BatchRejected) -> JSONResponse:
        return JSONResponse(
            {
                "detail": error.detail(),
                "message": f"{error.errors.total} problem(s) in the batch; nothing was stored",
            },
            status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(ValidationError)
    async def invalid_body(_: Request, error: ValidationError) -> JSONResponse:
        detail = [
            {"loc": ["body", *item["loc"]], "msg": item["msg"], "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False)
        ]
        return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(PayloadTooLarge)
    @app.exception_handler(TooLarge)
    async def too_large(_: Request, error: PayloadTooLarge | TooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_413_CONTENT_TOO_LARGE)

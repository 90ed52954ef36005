"""Maps service errors to HTTP answers whose detail names the field and the fix."""

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from monitor.ingest.errors import BatchRejected
from monitor.services.errors import Conflict, NotFound, Unprocessable


class PayloadTooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def install_error_handlers(app: FastAPI) -> None:
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
    async def too_large(_: Request, error: PayloadTooLarge) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_413_CONTENT_TOO_LARGE)

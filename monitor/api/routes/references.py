"""Uploading and reading a model's reference data set."""

import contextlib
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from monitor.api.body import spool_to_file
from monitor.api.deps import AdminKey, ModelDep, ReadKey, SessionDep, SettingsDep
from monitor.entities.reference import ReferencePublic
from monitor.ingest.reference import ReferenceFormat
from monitor.services import references
from monitor.services.errors import Unprocessable
from monitor.services.references import ReferenceUploadResult

router = APIRouter(prefix="/api/v1/models/{model}/reference", tags=["reference"])

_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "description": "A multipart form with one file part (CSV, Parquet or NDJSON), or the raw "
        "file as the body with its content type (text/csv, application/vnd.apache.parquet, "
        'application/x-ndjson), or JSON records (`[{...}]` or `{"records": [...]}`). Columns: '
        "every feature, `prediction`, and `label` where known.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


async def _receive_upload(request: Request, limit: int, spool: Path) -> tuple[Path, str, str]:
    """The upload on disk, with its content type and file name."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        path = await spool_to_file(request, limit, spool)
        return path, content_type, ""
    async with request.form(max_files=1, max_fields=10) as form:
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        if upload is None:
            raise Unprocessable("file", "the multipart form has no file part; attach the data set")
        spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=spool, delete=False, suffix=".upload") as handle:
            shutil.copyfileobj(upload.file, handle, length=1024 * 1024)
        return Path(handle.name), upload.content_type or "", upload.filename or ""


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminKey],
    openapi_extra=_UPLOAD_DOC,
    summary="Upload the reference data set (replaces the active one)",
)
async def upload_reference(
    request: Request, session: SessionDep, model: ModelDep, settings: SettingsDep
) -> ReferenceUploadResult:
    path, content_type, filename = await _receive_upload(
        request, settings.max_reference_bytes, settings.data_dir / "uploads"
    )
    try:
        fmt = ReferenceFormat.detect(content_type, filename)
        return await run_in_threadpool(
            references.store_reference,
            session=session,
            model=model,
            path=path,
            fmt=fmt,
            rows_per_chunk=settings.reference_chunk_rows,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@router.get("", dependencies=[ReadKey], summary="Describe the active reference data set")
def read_reference(session: SessionDep, model: ModelDep) -> ReferencePublic:
    dataset = references.active_reference(session=session, model=model)
    return ReferencePublic.model_validate(dataset, from_attributes=True)

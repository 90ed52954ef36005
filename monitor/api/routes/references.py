"""Uploading and reading a model version's reference data set."""

import contextlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from monitor.api.body import spool_to_file
from monitor.api.deps import AdminKey, ModelDep, ReadKey, SessionDep, SettingsDep
from monitor.entities.reference import ReferencePublic
from monitor.ingest.reference import ReferenceFormat
from monitor.services import references
from monitor.services.errors import Unprocessable
from monitor.services.references import ReferenceUploadResult
from monitor.versions.champion import current_champion

MAX_VERSION = 128

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


@dataclass(frozen=True, slots=True)
class _Upload:
    path: Path
    content_type: str
    filename: str
    model_version: str | None  # a multipart form's `model_version` field


async def _receive_upload(request: Request, limit: int, spool: Path) -> _Upload:
    """The upload on disk, with its content type, file name and form fields."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        path = await spool_to_file(request, limit, spool)
        return _Upload(path, content_type, "", None)
    async with request.form(max_files=1, max_fields=10) as form:
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        if upload is None:
            raise Unprocessable("file", "the multipart form has no file part; attach the data set")
        version = form.get("model_version")
        spool.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=spool, delete=False, suffix=".upload") as handle:
            shutil.copyfileobj(upload.file, handle, length=1024 * 1024)
        return _Upload(
            Path(handle.name),
            upload.content_type or "",
            upload.filename or "",
            version if isinstance(version, str) and version else None,
        )


def _version(query: str | None, form: str | None) -> str | None:
    if query is not None and form is not None and query != form:
        raise Unprocessable(
            "model_version",
            f"the query says {query!r} and the form says {form!r}; give the version once",
        )
    version = query if query is not None else form
    if version is not None and not 1 <= len(version) <= MAX_VERSION:
        raise Unprocessable(
            "model_version", f"give a registry version of 1 to {MAX_VERSION} characters"
        )
    return version


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminKey],
    openapi_extra=_UPLOAD_DOC,
    summary="Upload a model version's reference data set (replaces that version's active one)",
)
async def upload_reference(
    request: Request,
    session: SessionDep,
    model: ModelDep,
    settings: SettingsDep,
    model_version: Annotated[
        str | None,
        Query(
            description="The version the reference validates (also a multipart form field); "
            "default: the current champion, or unversioned when none is known. It must be "
            "held out from that version's training."
        ),
    ] = None,
) -> ReferenceUploadResult:
    upload = await _receive_upload(
        request, settings.max_reference_bytes, settings.data_dir / "uploads"
    )
    try:
        fmt = ReferenceFormat.detect(upload.content_type, upload.filename)
        version = _version(model_version, upload.model_version)
        if version is None:
            version = current_champion(session=session, model=model)
        return await run_in_threadpool(
            references.store_reference,
            session=session,
            model=model,
            path=upload.path,
            fmt=fmt,
            rows_per_chunk=settings.reference_chunk_rows,
            model_version=version,
            max_row_group_bytes=settings.max_reference_row_group_bytes,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            upload.path.unlink()


@router.get(
    "",
    dependencies=[ReadKey],
    summary="Describe the reference the champion (or a given version) is judged against",
)
def read_reference(
    session: SessionDep,
    model: ModelDep,
    model_version: Annotated[str | None, Query(description="Default: the current champion")] = None,
) -> ReferencePublic:
    version = model_version or current_champion(session=session, model=model)
    dataset = references.reference_for(session=session, model=model, version=version)
    return ReferencePublic.model_validate(dataset, from_attributes=True)

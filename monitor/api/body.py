"""Reading request bodies under a size limit: into memory for JSON, onto disk for uploads."""

import tempfile
from pathlib import Path

from fastapi import Request

from monitor.api.errors import PayloadTooLarge


def _check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"the body is {int(declared)} bytes; the limit is {limit} "
            "(send smaller batches, or raise MONITOR_MAX_REQUEST_BYTES)"
        )


async def read_limited(request: Request, limit: int) -> bytes:
    _check_declared_length(request, limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds the limit of {limit} bytes; send less")
        parts.append(chunk)
    return b"".join(parts)


async def spool_to_file(request: Request, limit: int, directory: Path) -> Path:
    """Stream the raw body to a temporary file; the caller deletes it."""
    _check_declared_length(request, limit)
    directory.mkdir(parents=True, exist_ok=True)
    size = 0
    with tempfile.NamedTemporaryFile(dir=directory, delete=False, suffix=".upload") as handle:
        path = Path(handle.name)
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"the upload exceeds the limit of {limit} bytes")
                handle.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path

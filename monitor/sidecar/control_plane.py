"""The sidecar's calls to the control plane: routing (with ETag), the registered model, and
inference batches; plus the model kept on disk for a start while the control plane is away."""

import logging
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from monitor.sidecar.capture import ModelShape
from monitor.sidecar.routing import Split

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0
# Errors that say "not now" rather than "never": retried, the batch spooled meanwhile.
TRANSIENT_ERRORS = (aiohttp.ClientError, TimeoutError)


class ControlPlane:
    def __init__(self, base_url: str, model: str, api_key: str) -> None:
        self._models = f"{base_url}/api/v1/models/{model}"
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S),
        )
        self._etag: str | None = None

    async def close(self) -> None:
        await self._session.close()

    async def routing(self, current: Split, upstream: str) -> Split:
        """The routing now: `current` itself when unchanged (304)."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        async with self._session.get(f"{self._models}/routing", headers=headers) as reply:
            if reply.status == 304:
                return current
            body = await _json(reply)
            split = Split.of(body, upstream)
            self._etag = reply.headers.get("ETag")
            return split

    async def model(self) -> dict[str, Any]:
        """The registered model, as `GET /api/v1/models/{model}` shows it."""
        async with self._session.get(self._models) as reply:
            body: dict[str, Any] = await _json(reply)
            return body

    async def send(self, payload: bytes) -> tuple[int, bytes]:
        """POST a batch of records; the status and body, whatever the status."""
        async with self._session.post(
            f"{self._models}/inferences",
            data=payload,
            headers={"Content-Type": "application/json"},
        ) as reply:
            return reply.status, await reply.read()


async def _json(reply: aiohttp.ClientResponse) -> Any:
    body = await reply.read()
    if reply.status != 200:
        raise aiohttp.ClientResponseError(
            reply.request_info,
            (),
            status=reply.status,
            message=body.decode(errors="replace")[:500],
        )
    return orjson.loads(body)


class ModelCache:
    """The registered model last read, in a file next to the spool."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> ModelShape | None:
        if not self._path.exists():
            return None
        try:
            return ModelShape.of(orjson.loads(self._path.read_bytes()))
        except (ValueError, KeyError, TypeError) as error:
            logger.warning("ignoring the unreadable cached model %s: %r", self._path, error)
            return None

    def save(self, model: dict[str, Any]) -> None:
        partial = self._path.with_name(self._path.name + ".tmp")
        partial.write_bytes(orjson.dumps(model))
        partial.rename(self._path)

"""The sidecar process: an aiohttp reverse proxy on uvloop that serves each request from the
variant the routing picks, copies it to the shadow without waiting, and hands what happened to
the shipper. Nothing on the request path waits for the control plane, the shadow or the disk."""

import asyncio
import hmac
import logging
import signal
import time
from collections.abc import Mapping
from contextlib import suppress
from ipaddress import ip_address
from uuid import uuid4

import aiohttp
import orjson
import uvloop
from aiohttp import web

from monitor.sidecar.capture import Exchange, ModelShape, Protocol
from monitor.sidecar.control_plane import TRANSIENT_ERRORS, ControlPlane, ModelCache
from monitor.sidecar.routing import STABLE, Split, Variant
from monitor.sidecar.settings import SidecarSettings
from monitor.sidecar.shipper import Shipper
from monitor.sidecar.spool import Spool

logger = logging.getLogger(__name__)

SCHEMA_REFRESH_S = 60.0
STARTUP_ROUTING_TIMEOUT_S = 2.0
PASS_THROUGH = (
    "/ping",
    "/health",
    "/version",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/{name}",
    "/v2/models/{name}/ready",
)
# Headers that describe one connection, or that aiohttp sets itself, are not forwarded.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "date",
        "server",
    }
)


def _forwarded(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _NOT_FORWARDED}


def allowed_headers(headers: Mapping[str, str], allowed: frozenset[str]) -> dict[str, str]:
    """What a canary or shadow server gets of a request's headers: the allowed names only
    (lower case), so credentials meant for the stable server go no further."""
    return {k: v for k, v in headers.items() if k.lower() in allowed}


class Sidecar:
    def __init__(self, settings: SidecarSettings) -> None:
        self.settings = settings
        self.split = Split.default(settings.upstream)
        spool_dir = settings.spool_dir.resolve()
        self._model_cache = ModelCache(spool_dir / "model.json")
        self._spool = Spool(spool_dir, int(settings.spool_max_mb * 1024 * 1024))
        self._control_plane = ControlPlane(
            settings.control_plane, settings.model, settings.api_key.get_secret_value()
        )
        self.shipper = Shipper(
            self._control_plane,
            self._spool,
            schema=self._model_cache.load(),
            flush_records=settings.flush_records,
            flush_seconds=settings.flush_seconds,
            max_pending_bytes=int(settings.pending_max_mb * 1024 * 1024),
        )
        self._upstream = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=settings.upstream_timeout_seconds),
            skip_auto_headers=("User-Agent",),
        )
        self._sticky_header = settings.sticky_header
        self._candidate_headers = frozenset(
            name.strip().lower() for name in settings.candidate_headers.split(",") if name.strip()
        )
        self._shadows: set[asyncio.Task[None]] = set()
        self._reachable: bool | None = None
        self._schema_read_at = -SCHEMA_REFRESH_S

    def application(self) -> web.Application:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/invocations", self.invocations)
        app.router.add_post("/v2/models/{name}/infer", self.infer_v2)
        app.router.add_post("/v2/models/{name}/versions/{version}/infer", self.infer_v2)
        for path in PASS_THROUGH:
            app.router.add_get(path, self.pass_through)
        app.router.add_get("/sidecar/status", self.status)
        app.router.add_get("/sidecar/healthz", self.healthz)
        return app

    async def invocations(self, request: web.Request) -> web.Response:
        return await self._serve(request, Protocol.MLFLOW)

    async def infer_v2(self, request: web.Request) -> web.Response:
        return await self._serve(request, Protocol.V2)

    async def _serve(self, request: web.Request, protocol: Protocol) -> web.Response:
        body = await request.read()
        arrived = time.time()
        # Always our own id, never the caller's `X-Request-Id`: records are idempotent on it, so
        # a caller naming another's id would have that request's record dropped as a duplicate.
        request_id = uuid4().hex
        split = self.split
        variant = split.choose(request.headers.get(self._sticky_header))
        headers = _forwarded(request.headers)
        candidate_headers = allowed_headers(headers, self._candidate_headers)
        status, payload, reply_headers, latency_ms = await self._call(
            "POST",
            variant.url + variant.upstream_path(request.path_qs),
            body,
            headers if variant.name == STABLE else candidate_headers,
        )
        self.shipper.add(
            Exchange(
                protocol,
                request_id,
                arrived,
                variant.name,
                variant.model_version,
                latency_ms,
                status,
                body,
                payload,
            )
        )
        if split.shadow is not None:
            self._mirror(
                split.shadow, request.path_qs, body, candidate_headers, protocol, request_id
            )
        reply_headers["X-Request-Id"] = request_id
        reply_headers["X-Model-Variant"] = variant.name
        if variant.model_version is not None:
            reply_headers["X-Model-Version"] = variant.model_version
        return web.Response(body=payload, status=status, headers=reply_headers)

    async def _call(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str], float]:
        """Status, body, headers and round trip (ms) of one upstream call; 502 when the model
        server cannot be reached or does not answer in time."""
        started = time.perf_counter()
        try:
            async with self._upstream.request(method, url, data=body, headers=headers) as reply:
                payload = await reply.read()
                status, reply_headers = reply.status, _forwarded(reply.headers)
        except TRANSIENT_ERRORS as error:
            status, reply_headers = 502, {"Content-Type": "application/json"}
            message = f"the model server at {url} did not answer: {error!r}"
            payload = orjson.dumps({"error": message})
        return status, payload, reply_headers, (time.perf_counter() - started) * 1000.0

    def _mirror(
        self,
        shadow: Variant,
        path: str,
        body: bytes,
        headers: dict[str, str],
        protocol: Protocol,
        request_id: str,
    ) -> None:
        """Send the shadow a copy and capture its answer, without the caller waiting."""
        if len(self._shadows) >= self.settings.max_shadow_in_flight:
            logger.debug("shadow copy of %s skipped: too many in flight", request_id)
            return

        async def copy() -> None:
            arrived = time.time()
            status, payload, _, latency_ms = await self._call(
                "POST", shadow.url + shadow.upstream_path(path), body, headers
            )
            self.shipper.add(
                Exchange(
                    protocol,
                    request_id,
                    arrived,
                    shadow.name,
                    shadow.model_version,
                    latency_ms,
                    status,
                    body,
                    payload,
                )
            )

        task = asyncio.create_task(copy())
        self._shadows.add(task)
        task.add_done_callback(self._shadows.discard)

    async def pass_through(self, request: web.Request) -> web.Response:
        stable = self.split.stable
        url = stable.url + stable.upstream_path(request.path_qs)
        status, payload, headers, _ = await self._call(
            "GET", url, None, _forwarded(request.headers)
        )
        return web.Response(body=payload, status=status, headers=headers)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(body=b'{"status": "ok"}', content_type="application/json")

    def _status_refusal(self, request: web.Request) -> web.Response | None:
        """Why the caller may not read the status (it names upstream URLs), or None."""
        key = self.settings.status_key
        if key is None:
            if request.remote is not None and ip_address(request.remote).is_loopback:
                return None
            detail = "the status answers only on loopback; set --status-key to read it remotely"
            return web.json_response({"detail": detail}, status=403)
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {key.get_secret_value()}".encode()):
            return None
        detail = "send `Authorization: Bearer <status key>` (the sidecar's --status-key)"
        return web.json_response({"detail": detail}, status=401)

    async def status(self, request: web.Request) -> web.Response:
        if refusal := self._status_refusal(request):
            return refusal
        split = self.split
        variants = [*split.serving, *([split.shadow] if split.shadow else [])]
        body = {
            "routing_revision": split.revision,
            "variants": [
                {
                    "name": v.name,
                    "model_version": v.model_version,
                    "url": v.url,
                    "weight": v.weight,
                    "v2_model_name": v.v2_model_name,
                }
                for v in variants
            ],
            "spooled_batches": self.shipper.spooled_batches,
            "spooled_bytes": self.shipper.spooled_bytes,
            "shipped_records": self.shipper.counts.shipped_records,
            "dropped_records": self.shipper.counts.dropped_records,
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def follow_control_plane(self) -> None:
        """Poll the routing (and now and then the schema) for good; keep the last on failure."""
        while True:
            await self.sync()
            await asyncio.sleep(self.settings.routing_poll_seconds)

    async def sync(self) -> None:
        try:
            split = await self._control_plane.routing(self.split, self.settings.upstream)
            if split.revision != self.split.revision:
                logger.info("routing revision %s: %s", split.revision, _describe(split))
            self.split = split
            if time.monotonic() - self._schema_read_at >= SCHEMA_REFRESH_S:
                await self._read_schema()
        except (*TRANSIENT_ERRORS, ValueError, KeyError, TypeError) as error:
            if self._reachable is not False:
                logger.warning(
                    "control plane at %s: %r; serving with routing revision %s",
                    self.settings.control_plane,
                    error,
                    self.split.revision,
                )
            self._reachable = False
            return
        if self._reachable is False:
            logger.info("control plane at %s answers again", self.settings.control_plane)
        self._reachable = True

    async def _read_schema(self) -> None:
        model = await self._control_plane.model()
        schema = ModelShape.of(model)
        self._schema_read_at = time.monotonic()
        if schema != self.shipper.schema:
            self.shipper.schema = schema
            await asyncio.to_thread(self._model_cache.save, model)

    async def close(self) -> None:
        for task in list(self._shadows):
            task.cancel()
        await self._upstream.close()
        await self._control_plane.close()


def _describe(split: Split) -> str:
    parts = [f"{v.name} {v.weight}% -> {_target(v)}" for v in split.serving]
    if split.shadow is not None:
        parts.append(f"shadow copy -> {_target(split.shadow)}")
    return ", ".join(parts)


def _target(variant: Variant) -> str:
    if variant.v2_model_name is None:
        return variant.url
    return f"{variant.url} (v2 model {variant.v2_model_name})"


async def serve(settings: SidecarSettings) -> None:
    """Run until SIGTERM or SIGINT."""
    sidecar = Sidecar(settings)
    with suppress(TimeoutError):
        await asyncio.wait_for(sidecar.sync(), STARTUP_ROUTING_TIMEOUT_S)
    poller = asyncio.create_task(sidecar.follow_control_plane())
    shipper = asyncio.create_task(sidecar.shipper.run())
    runner = web.AppRunner(sidecar.application(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port, backlog=1024).start()
    logger.info(
        "sidecar for model %s on http://%s:%d: %s",
        settings.model,
        settings.host,
        settings.port,
        _describe(sidecar.split),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()  # lets requests in progress finish
    poller.cancel()
    sidecar.shipper.close()
    await asyncio.gather(poller, shipper, return_exceptions=True)
    await sidecar.close()


def run(settings: SidecarSettings) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(settings))

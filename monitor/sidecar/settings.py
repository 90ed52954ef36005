"""The sidecar's configuration: `monitor sidecar` options, each also a `MONITOR_SIDECAR_*`
environment variable."""

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"{value!r} is not an http(s) URL; give e.g. http://127.0.0.1:8000")
    return value.rstrip("/")


BaseUrl = Annotated[str, AfterValidator(_base_url)]


class SidecarSettings(BaseSettings):
    """Every knob of one sidecar process."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_SIDECAR_", extra="ignore")

    model: str = Field(description="Registered model name whose traffic this sidecar serves.")
    control_plane: BaseUrl = Field(
        "http://127.0.0.1:8000", description="Base URL of the monitor's REST API."
    )
    api_key: SecretStr = Field(description="An `ingest` API key of the control plane.")
    upstream: BaseUrl = Field(
        description="The default model server, for every variant whose routing endpoint is null "
        "(and for all traffic until the first routing arrives)."
    )
    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8080, ge=1, le=65535, description="Port to bind.")
    sticky_header: str = Field(
        "X-User-Id",
        min_length=1,
        description="Request header whose value pins a caller to one variant; requests "
        "without it are split at random.",
    )
    spool_dir: Path = Field(
        Path("sidecar-spool"),
        description="Folder of record batches not yet accepted by the control plane.",
    )
    spool_max_mb: float = Field(
        256.0, gt=0, description="Largest size of the spool; the oldest batches go first."
    )
    pending_max_mb: float = Field(
        32.0,
        gt=0,
        description="Most request and response bytes held in memory waiting to be shipped; "
        "past it they go to the spool, so a control plane that hangs cannot exhaust memory.",
    )
    status_key: SecretStr | None = Field(
        None,
        description="A secret that `/sidecar/status` (routing, upstream URLs, counts) asks for "
        "as `Authorization: Bearer <key>`. Unset, it answers only callers on loopback. "
        "`/sidecar/healthz` always answers, with nothing in it.",
    )
    candidate_headers: str = Field(
        "accept,accept-encoding,content-type,user-agent,traceparent,tracestate",
        description="Request headers copied to canary and shadow servers, comma-separated; "
        "others (Authorization, Cookie, ...) reach only the stable server.",
    )
    routing_poll_seconds: float = Field(
        2.0, gt=0, description="How often the routing is polled (cheap: ETag, 304)."
    )
    flush_records: int = Field(
        500, ge=1, le=10_000, description="Most records in one batch sent to the control plane."
    )
    flush_seconds: float = Field(
        1.0, gt=0, description="Longest time a record waits before its batch is sent."
    )
    upstream_timeout_seconds: float = Field(
        60.0, gt=0, description="Longest wait for a model server's answer (then 502)."
    )
    max_shadow_in_flight: int = Field(
        64,
        ge=1,
        description="Shadow copies awaiting their answer at once; beyond it copies are skipped, "
        "so a slow shadow never holds serving memory or sockets.",
    )

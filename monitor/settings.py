"""Service configuration, read from `MONITOR_*` environment variables (pydantic-settings)."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from monitor.logs import LogFormat, LogLevel

# A published key: fine for a laptop, refused with MONITOR_ENVIRONMENT=production.
DEVELOPMENT_SECRET_KEY = "u23HlChqeSq5IqQgfjT6Rs_Y80ADr24hOSMVaznlH8I="


# The kinds of monitor.entities.retraining.PipelineKind (which imports these settings).
PIPELINE_KINDS = ("python", "command", "http")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of the service. Defaults make a fresh clone work with no services running."""

    model_config = SettingsConfigDict(env_prefix="MONITOR_", env_file=".env", extra="ignore")

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="`production` refuses development-only defaults such as the SQLite store.",
    )
    data_dir: Path = Field(
        Path("data"),
        description="Folder for the embedded SQLite store and local artifacts; created on start.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL of the store, e.g. `postgresql+psycopg://user@host/db`. "
            "Default: SQLite at `<data_dir>/monitor.db`."
        ),
    )
    secret_keys: str = Field(
        DEVELOPMENT_SECRET_KEY,
        description="Fernet keys, comma-separated, that encrypt stored secrets (channel secrets, "
        "pipeline configurations, callback secrets): the first encrypts, all decrypt. Rotate by "
        "putting a new key first and running `monitor secrets rotate` (docs/security.md). The "
        "default is a published development key, refused in production.",
        repr=False,
    )
    migrate_on_start: bool = Field(
        True,
        description="Run `alembic upgrade head` when `monitor serve` starts (turn off when a "
        "separate `monitor migrate` step runs before the replicas start).",
    )
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="`json` writes one JSON object per line, with `model_id`, `monitor_id` and "
        "`run_id` as fields where a line is about them; `text` writes classic lines.",
    )
    log_level: LogLevel = Field(
        LogLevel.INFO,
        description="`info` logs what an operator acts on (runs, events, failures, scheduler "
        "leadership); `debug` adds the scheduler's per-job lines.",
    )
    max_batch_records: int = Field(
        10_000, ge=1, description="Most records one inferences or labels request may carry (413)."
    )
    max_request_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest JSON body accepted by the ingestion endpoints (413 above it).",
    )
    max_reference_bytes: int = Field(
        8 * 1024 * 1024 * 1024,
        ge=1024,
        description="Largest reference upload (CSV, Parquet or NDJSON) accepted (413 above it).",
    )
    max_reference_row_group_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Largest row group of a Parquet reference upload, uncompressed, over the "
        "model's columns, as its footer declares (413 above it, before any data is read): "
        "one row group is in memory at a time.",
    )
    max_other_request_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest body of any other request (models, channels, pipelines, the "
        "dashboard's callbacks); refused with 413 before it is read, key or no key.",
    )
    reference_chunk_rows: int = Field(
        65_536, ge=1024, description="Rows per stored Parquet chunk of a reference data set."
    )
    api_key_cache_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a verified API key is trusted without a database look-up; "
        "a revoked key stops working within this time.",
    )
    scheduler: bool = Field(
        True,
        description="Run the scheduler inside `monitor serve`; turn off on API replicas when "
        "`monitor scheduler` runs on its own.",
    )
    scheduler_poll_seconds: float = Field(
        5.0,
        gt=0,
        description="How often a standby scheduler tries to take over, and the leader checks "
        "that it still holds the lock.",
    )
    scheduler_sync_seconds: float = Field(
        5.0, gt=0, description="How often the scheduler picks up monitors added or changed."
    )
    run_stale_seconds: float = Field(
        30.0,
        gt=0,
        description="A running run whose heartbeat is older than this is marked failed "
        "(its process died).",
    )
    run_timeout_seconds: float = Field(
        1800.0, gt=0, description="A run still running after this long is marked failed."
    )
    task_broker_url: str = Field(
        "",
        description="Broker of the task engine (Celery), e.g. `amqp://user:pass@rabbitmq:5672//` "
        "or `redis://redis:6379/0`. Set, the active scheduler sends monitor runs, backfills, "
        "quality re-evaluation, deliveries, retraining and rollout checks to `monitor worker` "
        "processes; empty (default), it executes them itself, in-process, with no broker.",
        repr=False,
    )
    task_queue: str = Field(
        "monitor",
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Name of the queue monitor runs travel on; housekeeping passes use "
        "`<name>.housekeeping`. Installations sharing one broker need different names.",
    )
    delivery_poll_seconds: float = Field(
        1.0,
        gt=0,
        description="How often the notification dispatcher turns new events into deliveries "
        "and sends those due. A channel sends at most its rate limit times this per pass.",
    )
    delivery_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="Timeout of one notification request. A delivery whose sender stopped "
        "mid-request is tried again after twice this plus one second.",
    )
    delivery_max_attempts: int = Field(
        12,
        ge=1,
        description="Attempts a delivery gets (retry budget) before it is dead-lettered; "
        "redeliver it through the API.",
    )
    delivery_backoff_base_seconds: float = Field(
        2.0,
        gt=0,
        description="Delay after the first failed attempt; it doubles with every attempt, "
        "drawn between half and all of that (jitter).",
    )
    delivery_backoff_max_seconds: float = Field(
        600.0, gt=0, description="Longest backoff between two attempts of a delivery."
    )
    delivery_retry_after_max_seconds: float = Field(
        3600.0,
        ge=0,
        description="Longest `Retry-After` a receiver may ask for and get (a longer one is cut).",
    )
    delivery_batch_size: int = Field(
        200,
        ge=1,
        description="Most events fanned out, and deliveries sent, in one dispatcher pass.",
    )
    delivery_workers: int = Field(
        4, ge=1, le=64, description="Channels the dispatcher sends to at the same time."
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking server (e.g. `http://mlflow:5000`) or store URI that "
        "retraining pipelines log to and where versions are registered. Default: an embedded "
        "SQLite store at `<data_dir>/mlflow.db`.",
    )
    mlflow_artifact_root: Path | None = Field(
        None,
        description="Where experiments the control plane creates in a database-backed MLflow "
        "store keep their artifacts. Default: `<data_dir>/mlartifacts`. Not used with an HTTP "
        "tracking server, which decides where artifacts go.",
    )
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Address at which outside orchestrators reach this API: HTTP retraining "
        "pipelines get their completion callback and training-data link under it, and the "
        "dashboard mounted at /dashboard reads it. Unset, `monitor serve` uses the address "
        "it listens on.",
    )
    retraining_poll_seconds: float = Field(
        2.0,
        gt=0,
        description="How often the scheduler reads new events against retraining policies, "
        "starts queued retraining runs and reconciles interrupted ones.",
    )
    champion_sync_seconds: float = Field(
        30.0,
        gt=0,
        description="How often the scheduler reads `@champion` in MLflow for the models it "
        "retrains or has seen a champion of, so an alias moved by hand re-baselines monitors.",
    )
    quality_refresh_seconds: float = Field(
        10.0,
        gt=0,
        description="How often the scheduler re-evaluates the model quality of windows that "
        "late labels have reached since they were evaluated.",
    )
    retraining_workers: int = Field(
        2, ge=1, le=32, description="Retraining runs (of different models) run at the same time."
    )
    retraining_heartbeat_seconds: float = Field(
        5.0, gt=0, description="How often a retraining run in progress records that it is alive."
    )
    retraining_stale_seconds: float = Field(
        60.0,
        gt=0,
        description="A running retraining run whose heartbeat is older than this is marked "
        "`interrupted` (the control plane running it stopped).",
    )
    retraining_event_grace_seconds: float = Field(
        60.0,
        ge=0,
        description="How long a gap in event ids is waited for before retraining passes over it "
        "(on PostgreSQL a lower id can commit after a higher one).",
    )
    retraining_max_log_bytes: int = Field(
        65_536,
        ge=1024,
        description="How much of the end of a pipeline's output is kept with its run; the "
        "whole log stays in the run's folder.",
    )
    retraining_callback_tolerance_seconds: float = Field(
        300.0,
        gt=0,
        description="How far the `X-Monitor-Timestamp` of a pipeline's completion callback may "
        "be from this server's clock.",
    )
    retraining_link_seconds: float = Field(
        86_400.0,
        gt=0,
        description="How long the training-data link given to an HTTP pipeline stays valid.",
    )
    rollout_tick_seconds: float = Field(
        2.0,
        gt=0,
        description="How often the canary controller checks active rollouts (a step ends "
        "at most this long after its bake time).",
    )
    egress_allow_private: bool = Field(
        False,
        description="Let notification channels and HTTP retraining pipelines reach loopback, "
        "private and link-local addresses (an orchestrator on the internal network, local "
        "test receivers). Off, only public addresses are reached, so a URL cannot probe the "
        "control plane's network or a cloud metadata service.",
    )
    retraining_pipeline_kinds: str | None = Field(
        None,
        description="Pipeline kinds that may be configured and run, comma-separated, of "
        "`python`, `command`, `http`. `python` and `command` run code on this machine, so an "
        "admin key with them is shell access. Default: all three in development, `http` only "
        "in production.",
    )
    retraining_env_allowlist: str = Field(
        "PATH,HOME,LANG,LC_ALL,LC_CTYPE,TZ,TMPDIR,PYTHONPATH,VIRTUAL_ENV,SSL_CERT_FILE",
        description="Variables of the control plane's environment that `python` and `command` "
        "pipelines inherit, comma-separated; nothing else reaches them (other secrets stay "
        "here), besides the pipeline's own `env` and the variables that locate its context.",
    )
    retraining_gate_timeout_seconds: float = Field(
        600.0,
        gt=0,
        description="How long the validation gate's child process may take to load and score "
        "one model version (candidate or champion) on the held-out records; past it the child "
        "is killed and the gate fails, saying so. It inherits only "
        "MONITOR_RETRAINING_ENV_ALLOWLIST and MLFLOW_* variables.",
    )
    retention_records_days: float | None = Field(
        None,
        gt=0,
        description="Raw inference records older than this (by timestamp) are deleted by the "
        "scheduler's housekeeping. Unset: kept for ever. Run history and results stay.",
    )
    retention_labels_days: float | None = Field(
        None,
        gt=0,
        description="Ground-truth labels older than this (by timestamp) are deleted. Unset: "
        "kept for ever.",
    )
    retention_events_days: float | None = Field(
        None,
        gt=0,
        description="Events older than this (by time) are deleted with their deliveries and "
        "delivery attempts; keep it past the longest delivery retry. Unset: kept for ever.",
    )
    retention_exports_days: float | None = Field(
        None,
        gt=0,
        description="The export folders (training and held-out Parquet files, context, logs) "
        "of retraining runs that finished longer ago than this are deleted; the run's row, "
        "counts, gate verdict and lineage stay. Unset: kept for ever.",
    )
    retention_batch_rows: int = Field(
        10_000,
        ge=1,
        description="Rows one retention delete removes in one transaction.",
    )
    kserve_pair_wait_seconds: float = Field(
        600.0,
        gt=0,
        description="How long a KServe payload-logger request event waits in the store for its "
        "response event (and the reverse) before housekeeping drops it and counts it as expired "
        "(GET /api/v1/models/{model}/kserve/pending).",
    )
    dashboard_url: str = Field(
        "http://127.0.0.1:8000/dashboard",
        description="Public address of the dashboard, used in links inside alerts.",
    )
    dashboard_session_seconds: float = Field(
        8 * 3600.0,
        gt=0,
        description="How long a dashboard sign-in lasts (its HttpOnly, SameSite=Strict session "
        "cookie); then the user signs in again with their API key.",
    )
    metrics_max_columns_per_model: int = Field(
        50,
        ge=1,
        le=10_000,
        description="Columns per model that get drift series on `/metrics` (prediction and "
        "label first, then drifted features, then by name); bounds the label cardinality.",
    )
    mlflow_webhook_tolerance_seconds: float = Field(
        300.0,
        gt=0,
        description="An MLflow registry webhook whose `X-MLflow-Timestamp` is further than "
        "this from the clock is refused (replay protection).",
    )

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "Settings":
        if self.environment is Environment.PRODUCTION and self.database_url is None:
            raise ValueError(
                "MONITOR_DATABASE_URL must be set when MONITOR_ENVIRONMENT=production "
                "(the embedded SQLite store is for development only)"
            )
        if self.environment is Environment.PRODUCTION and DEVELOPMENT_SECRET_KEY in (
            key.strip() for key in self.secret_keys.split(",")
        ):
            raise ValueError(
                "MONITOR_SECRET_KEYS must be set to keys of your own when "
                "MONITOR_ENVIRONMENT=production (the default key is published); generate one "
                'with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            )
        return self

    @model_validator(mode="after")
    def _known_pipeline_kinds(self) -> "Settings":
        unknown = set(self.allowed_pipeline_kinds) - set(PIPELINE_KINDS)
        if unknown:
            raise ValueError(
                f"MONITOR_RETRAINING_PIPELINE_KINDS: {sorted(unknown)} are not pipeline kinds; "
                f"list some of {', '.join(PIPELINE_KINDS)}"
            )
        return self

    @model_validator(mode="after")
    def _backoff_bounds(self) -> "Settings":
        if self.delivery_backoff_max_seconds < self.delivery_backoff_base_seconds:
            raise ValueError(
                "MONITOR_DELIVERY_BACKOFF_MAX_SECONDS must be at least "
                "MONITOR_DELIVERY_BACKOFF_BASE_SECONDS"
            )
        return self

    @property
    def allowed_pipeline_kinds(self) -> tuple[str, ...]:
        if self.retraining_pipeline_kinds is None:
            return ("http",) if self.environment is Environment.PRODUCTION else PIPELINE_KINDS
        return tuple(k.strip() for k in self.retraining_pipeline_kinds.split(",") if k.strip())

    @property
    def inherited_pipeline_env(self) -> tuple[str, ...]:
        return tuple(n.strip() for n in self.retraining_env_allowlist.split(",") if n.strip())

    @property
    def resolved_mlflow_tracking_uri(self) -> str:
        if self.mlflow_tracking_uri:
            return self.mlflow_tracking_uri
        return f"sqlite:///{(self.data_dir / 'mlflow.db').resolve()}"

    @property
    def resolved_mlflow_artifact_root(self) -> Path | None:
        """None for an HTTP tracking server (it places artifacts itself)."""
        if self.resolved_mlflow_tracking_uri.startswith(("http://", "https://")):
            return None
        return (self.mlflow_artifact_root or self.data_dir / "mlartifacts").resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'monitor.db').resolve()}"

    @property
    def shown_database_url(self) -> str:
        """The store's URL as it may be printed and logged: its password hidden."""
        return make_url(self.resolved_database_url).render_as_string(hide_password=True)


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()

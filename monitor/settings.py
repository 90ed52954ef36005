"""Service configuration, read from `MONITOR_*` environment variables (pydantic-settings)."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    migrate_on_start: bool = Field(
        True,
        description="Run `alembic upgrade head` when `monitor serve` starts (turn off when a "
        "separate `monitor migrate` step runs before the replicas start).",
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
    dashboard_url: str = Field(
        "http://127.0.0.1:8000/dashboard",
        description="Public address of the dashboard, used in links inside alerts.",
    )

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> "Settings":
        if self.environment is Environment.PRODUCTION and self.database_url is None:
            raise ValueError(
                "MONITOR_DATABASE_URL must be set when MONITOR_ENVIRONMENT=production "
                "(the embedded SQLite store is for development only)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'monitor.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once on first use (never at import time)."""
    return Settings()

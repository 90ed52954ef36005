"""The API as each `monitor serve` worker process builds it. uvicorn starts the workers fresh
(spawned, not forked), so a worker reads its settings from the environment `serve` prepared and
sets up its own logging; every worker runs the scheduler's election, and one of them wins it."""

import gc
import os

from fastapi import FastAPI

from monitor.api.app import create_app
from monitor.logs import configure_logging
from monitor.settings import get_settings
from monitor.store.migrations import upgrade_to_head

FACTORY = "monitor.api.workers:worker_app"
# How long uvicorn waits for a worker to answer its health check before it kills and replaces
# it. Its default, 5 s, kills workers still importing the app on a busy machine, and their
# replacements too, for ever (seen at 30 s on a machine with 8 processes per CPU); a hung
# worker is still replaced, and the load balancer's /readyz check sees it before.
HEALTHCHECK_SECONDS = 120


def prepare_workers(host: str, port: int) -> None:
    """Migrate the store once, here, before any worker starts (workers migrating at once
    would race to create the same tables), and tell the workers where they are public unless
    MONITOR_PUBLIC_URL says: the dashboard mounted here calls the API there."""
    settings = get_settings()
    if settings.migrate_on_start:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade_to_head(settings.resolved_database_url)
        os.environ["MONITOR_MIGRATE_ON_START"] = "false"
    if "public_url" not in settings.model_fields_set:
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        os.environ["MONITOR_PUBLIC_URL"] = f"http://{local}:{port}"
    get_settings.cache_clear()


def worker_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)
    app = create_app(settings)
    # Everything imported so far lives as long as the process: keep the collector from
    # rescanning it on every collection of request garbage (about 20% more throughput).
    gc.collect()
    gc.freeze()
    return app

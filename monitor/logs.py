"""How the service logs: plain text or JSON lines (`MONITOR_LOG_FORMAT`), with the model,
monitor and run a line is about as fields, and the scheduler's per-job chatter kept at DEBUG."""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# The ids an operator filters by; a line carries those it knows, from `extra=` or the context.
ID_FIELDS = ("model_id", "monitor_id", "run_id")
# APScheduler says "Running job ..." and "... executed successfully" for every housekeeping
# job every second (the service logs what the jobs did instead); Alembic names its plugins
# each time a worker checks the schema.
CHATTY_LOGGERS = ("apscheduler", "alembic.runtime.plugins")

_ids: ContextVar[dict[str, int]] = ContextVar("log_ids", default={})  # noqa: B039 (never mutated)


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@contextmanager
def log_context(**ids: int | None) -> Iterator[None]:
    """Every line logged in this block (this thread or task) carries these ids as fields."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _ids.reset(token)


class _ContextIds(logging.Filter):
    """Copies the context's ids onto each record (an `extra=` id of the call wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _ids.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _DemoteToDebug(logging.Filter):
    """Logs a chatty library's INFO lines as DEBUG: shown only when the service logs DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        chatty = any(record.name == n or record.name.startswith(f"{n}.") for n in CHATTY_LOGGERS)
        if chatty and record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, process, the ids, any error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for name in ID_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _TextFormatter(logging.Formatter):
    """The classic line, with the ids appended where a record has them."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        present = {name: getattr(record, name, None) for name in ID_FIELDS}
        ids = [f"{name}={value}" for name, value in present.items() if value is not None]
        if not ids:
            return text
        head, newline, rest = text.partition("\n")
        return f"{head} [{' '.join(ids)}]{newline}{rest}"


def configure_logging(log_format: LogFormat, level: LogLevel) -> None:
    """Route every logger (the service's, uvicorn's, APScheduler's) through one stderr handler
    in `log_format`; safe to call again (each uvicorn worker process calls it on start)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if log_format is LogFormat.JSON else _TextFormatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(_ContextIds())
    handler.addFilter(_DemoteToDebug())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.value.upper())
    for name in ("uvicorn", "uvicorn.error"):  # through the root handler, in the same format
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True

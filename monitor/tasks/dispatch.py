"""The seam between deciding and doing: the scheduler hands every queued run and every
housekeeping pass to a `TaskDispatcher` and does not know where it executes."""

from datetime import timedelta
from typing import Protocol

from sqlalchemy import Engine

from monitor.settings import Settings
from monitor.tasks.work import Housekeeping, execute_claimed, housekeep


class DispatchFailed(Exception):
    """The task could not be handed over (the broker is unreachable); the run stays queued."""


class TaskDispatcher(Protocol):
    @property
    def redispatch_after(self) -> timedelta:
        """How long a dispatched run may stay queued before it is handed over again."""

    def run(self, run_id: int) -> None:
        """Have a queued run executed, once, however often it is handed over."""

    def housekeeping(self, task: Housekeeping, every_seconds: float) -> None:
        """Have one pass of `task` made; the scheduler asks every `every_seconds`."""


class InProcessDispatcher:
    """The embedded default: execute on the calling (scheduler) thread, as before workers."""

    redispatch_after = timedelta(0)  # a queued run was never handed to anyone else

    def __init__(self, engine: Engine, *, settings: Settings, tracking_uri: str | None) -> None:
        self._engine = engine
        self._settings = settings
        self._tracking_uri = tracking_uri

    def run(self, run_id: int) -> None:
        execute_claimed(self._engine, run_id, self._tracking_uri, takeover_after=None)

    def housekeeping(self, task: Housekeeping, every_seconds: float) -> None:
        housekeep(self._engine, self._settings, task)


def dispatcher_for(engine: Engine, settings: Settings) -> TaskDispatcher:
    """Celery workers when a broker is configured, else this process."""
    if not settings.task_broker_url:
        return InProcessDispatcher(
            engine, settings=settings, tracking_uri=settings.resolved_mlflow_tracking_uri
        )
    from monitor.tasks.engine import CeleryDispatcher

    return CeleryDispatcher(settings)

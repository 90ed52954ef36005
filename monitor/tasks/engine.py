"""The Celery side: the app `monitor worker` runs, its two tasks, and the dispatcher that sends
them. Tasks are acknowledged late and rejected when their worker is lost, so the broker hands a
task whose worker died to another worker; the run's conditional claim keeps it to one execution."""

import logging
import os
from datetime import timedelta
from functools import lru_cache

from celery import Celery, Task
from kombu.exceptions import KombuError

from monitor.scheduling.jobs import engine_for
from monitor.settings import Settings, get_settings
from monitor.tasks.dispatch import DispatchFailed
from monitor.tasks.work import TAKEOVER_AFTER, Housekeeping, RunClaim, exclusive, execute_claimed
from monitor.tasks.work import housekeep as make_pass

log = logging.getLogger(__name__)

RUN_TASK = "monitor.run"
HOUSEKEEPING_TASK = "monitor.housekeeping"


def housekeeping_queue(queue: str) -> str:
    return f"{queue}.housekeeping"


def _execute(task: Task, run_id: int) -> None:  # type: ignore[type-arg]
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url)
    log.info("run task for run %s (retry %s)", run_id, task.request.retries)
    claim = execute_claimed(
        engine, run_id, settings.resolved_mlflow_tracking_uri, takeover_after=TAKEOVER_AFTER
    )
    if claim is RunClaim.BUSY:
        # Redelivered while the run's heartbeat is fresh: its worker may still live. Look again
        # once a dead one's heartbeat would have gone stale.
        raise task.retry(countdown=TAKEOVER_AFTER.total_seconds() / 2, max_retries=None)


def _housekeep(task_name: str) -> None:
    settings = get_settings()
    engine = engine_for(settings.resolved_database_url)
    with exclusive(engine, task_name) as alone:
        if alone:
            make_pass(engine, settings, Housekeeping(task_name))


def celery_app(settings: Settings) -> Celery:
    return _app(settings.task_broker_url, settings.task_queue)


@lru_cache(maxsize=4)
def _app(broker_url: str, queue: str) -> Celery:
    app = Celery("monitor", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue,
        task_routes={HOUSEKEEPING_TASK: {"queue": housekeeping_queue(queue)}},
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    app.task(name=RUN_TASK, bind=True)(_execute)
    app.task(name=HOUSEKEEPING_TASK)(_housekeep)
    return app


class CeleryDispatcher:
    """Sends tasks to `monitor worker` processes through the broker."""

    def __init__(self, settings: Settings) -> None:
        self._app = celery_app(settings)
        # A run handed over and still queued this long (its message was lost with a broker
        # that kept no copy) is sent again; the claim makes a second message harmless.
        self.redispatch_after = timedelta(seconds=settings.run_timeout_seconds)

    def run(self, run_id: int) -> None:
        self._send(RUN_TASK, run_id)

    def housekeeping(self, task: Housekeeping, every_seconds: float) -> None:
        # A pass not started by the time the next one is sent is dropped, not piled up.
        self._send(HOUSEKEEPING_TASK, task.value, expires=max(every_seconds, 1.0) * 2)

    def _send(self, name: str, argument: object, *, expires: float | None = None) -> None:
        try:
            self._app.send_task(name, args=[argument], expires=expires)
        except (KombuError, OSError) as error:
            raise DispatchFailed(f"could not send {name}({argument}): {error}") from error


def worker_arguments(settings: Settings, concurrency: int) -> tuple[Celery, list[str]]:
    """The app and `celery worker` arguments of `monitor worker`: both queues, one task
    prefetched per process, and a node name of its own per process."""
    queues = f"{settings.task_queue},{housekeeping_queue(settings.task_queue)}"
    return celery_app(settings), [
        "worker",
        f"--queues={queues}",
        f"--concurrency={concurrency}",
        f"--pool={'solo' if concurrency == 1 else 'prefork'}",
        f"--hostname=monitor-{os.getpid()}@%h",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]

"""Putting channels and events in a store, and driving the dispatcher, for notification tests."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from monitor.entities.channel import ChannelCreate
from monitor.entities.delivery import Delivery
from monitor.entities.delivery_attempt import DeliveryAttempt
from monitor.entities.event import EventType, Severity
from monitor.entities.registered_model import RegisteredModel, Task
from monitor.notifications.dispatcher import PassReport, dispatch
from monitor.services.channels import create_channel
from monitor.services.events import record_event
from monitor.settings import Settings
from triggers.notifications.webhook import new_secret

NO_GROUPING = {"group_wait_seconds": 0, "group_interval_seconds": 0, "repeat_interval_seconds": 0}
SECRET = new_secret()


def add_webhook(engine: Engine, url: str, name: str = "hook", **fields: Any) -> None:
    body: dict[str, Any] = {
        "name": name,
        "kind": "webhook",
        "grouping": NO_GROUPING,
        "rate_limit_per_second": 1000,
        "secrets": {"url": url, "signing_secret": SECRET},
        **fields,
    }
    with Session(engine) as session:
        create_channel(session=session, channel_in=ChannelCreate.model_validate(body))


def add_model(engine: Engine, name: str) -> None:
    with Session(engine) as session:
        session.add(RegisteredModel(name=name, task=Task.REGRESSION, features=[]))
        session.commit()


def add_event(
    engine: Engine,
    type: EventType = EventType.DRIFT_DETECTED,
    *,
    severity: Severity = Severity.WARNING,
    model: str | None = None,
    dedup_key: str | None = "churn/drift",
    data: dict[str, Any] | None = None,
) -> str:
    """Record an event as a run would (committed alone); returns its id."""
    with Session(engine) as session:
        registered = None
        if model is not None:
            registered = session.exec(
                select(RegisteredModel).where(RegisteredModel.name == model)
            ).one()
        event = record_event(
            session,
            type=type,
            severity=severity,
            model=registered,
            dedup_key=dedup_key,
            data=data or {"monitor": "drift"},
        )
        session.commit()
        return event.uid


def deliveries(engine: Engine) -> list[Delivery]:
    with Session(engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.id))))


def attempts(engine: Engine, delivery_id: int) -> list[DeliveryAttempt]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(col(DeliveryAttempt.number))
            )
        )


def pass_at(engine: Engine, settings: Settings, now: datetime) -> PassReport:
    return dispatch(engine, settings, clock=lambda: now)


def dispatch_until(
    engine: Engine, settings: Settings, done: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Run dispatcher passes on the real clock until `done()`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        dispatch(engine, settings)
        time.sleep(settings.delivery_poll_seconds)

"""What starts retraining runs on its own: new outbox events that match a pipeline's policy (read
after a stored cursor), and pipelines' schedules."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.entities.event import Event
from monitor.entities.registered_model import RegisteredModel
from monitor.entities.retraining import (
    RetrainingCursor,
    RetrainingPipeline,
    RetrainingRun,
    RetrainTrigger,
)
from monitor.scheduling.ticks import ticks_between
from monitor.services.errors import Conflict
from monitor.services.retraining import request_run
from monitor.store.types import utc_now
from triggers.retraining import TriggerPolicy

log = logging.getLogger(__name__)

CURSOR = "events"
BATCH = 500


def _cursor(session: Session) -> RetrainingCursor:
    """The cursor row; created at the newest event, so history before retraining existed
    starts nothing."""
    cursor = session.get(RetrainingCursor, CURSOR, with_for_update=True)
    if cursor is None:
        newest = session.exec(select(func.max(Event.id))).one()
        cursor = RetrainingCursor(name=CURSOR, last_event_id=newest or 0)
        session.add(cursor)
        session.commit()
    return cursor


def _policies(session: Session) -> dict[int, tuple[RegisteredModel, TriggerPolicy]]:
    rows = session.exec(
        select(RetrainingPipeline, RegisteredModel)
        .join(RegisteredModel, col(RegisteredModel.id) == RetrainingPipeline.model_id)
        .where(col(RetrainingPipeline.enabled))
    ).all()
    policies = {}
    for pipeline, model in rows:
        spec = pipeline.spec.policy
        if spec.enabled:
            monitors = tuple(spec.monitors) if spec.monitors is not None else None
            policy = TriggerPolicy(
                tuple(spec.event_types), spec.min_severity, (model.name,), monitors
            )
            policies[pipeline.model_id] = (model, policy)
    return policies


def _settled(events: list[Event], after: int, now: datetime, grace: timedelta) -> list[Event]:
    """The events that can be handled without skipping one still to commit: ids run on from
    the cursor without a gap, and a gap counts as a rolled-back transaction only once the
    event after it is older than `grace` (on PostgreSQL a lower id can commit later)."""
    settled = []
    expected = after + 1
    for event in events:
        assert event.id is not None
        if event.id != expected and now - event.time < grace:
            break
        settled.append(event)
        expected = event.id + 1
    return settled


def consume_events(engine: Engine, *, now: datetime, grace: timedelta) -> int:
    """Request a run for each new event a policy matches; returns how many were requested.
    An event is handled once: the cursor moves past it, and a run records the event it came
    from (unique per model), so a crash between the two cannot start a second run."""
    with Session(engine, expire_on_commit=False) as session:
        after = _cursor(session).last_event_id
        policies = _policies(session)
        events = list(
            session.exec(
                select(Event).where(col(Event.id) > after).order_by(col(Event.id)).limit(BATCH)
            ).all()
        )
    settled = _settled(events, after, now, grace)
    requested = 0
    for event in settled:
        match = policies.get(event.model_id) if event.model_id is not None else None
        if match is None:
            continue
        model, policy = match
        raised_by = event.data.get("monitor")
        if not policy.matches(
            event_type=event.type,
            severity=event.severity,
            model=event.model,
            monitor=raised_by if isinstance(raised_by, str) else None,
        ):
            continue
        with Session(engine) as session:
            try:
                run = request_run(
                    session=session, model=model, trigger=RetrainTrigger.EVENT, event=event
                )
            except Conflict as refused:
                log.info("event %s (%s) starts no retraining: %s", event.uid, event.type, refused)
                continue
        log.info("event %s (%s) requested retraining run %s", event.uid, event.type, run.id)
        requested += 1
    if settled:
        with Session(engine) as session:
            cursor = _cursor(session)
            cursor.last_event_id = max(cursor.last_event_id, settled[-1].id or 0)
            cursor.updated_at = utc_now()
            session.add(cursor)
            session.commit()
    return requested


def request_scheduled(engine: Engine, *, now: datetime) -> int:
    """A run for each pipeline whose schedule ticked since its last scheduled run (or since it
    was configured). Ticks missed while a run was active are coalesced into one."""
    with Session(engine, expire_on_commit=False) as session:
        rows = session.exec(
            select(RetrainingPipeline, RegisteredModel)
            .join(RegisteredModel, col(RegisteredModel.id) == RetrainingPipeline.model_id)
            .where(col(RetrainingPipeline.enabled))
        ).all()
    requested = 0
    for pipeline, model in rows:
        schedule = pipeline.spec.schedule
        if schedule is None:
            continue
        with Session(engine) as session:
            last = session.exec(
                select(func.max(RetrainingRun.created_at))
                .where(RetrainingRun.model_id == model.id)
                .where(RetrainingRun.trigger == RetrainTrigger.SCHEDULE)
            ).one()
            since = max(last or pipeline.updated_at, pipeline.updated_at)
            if ticks_between(schedule, since, now) < 1:
                continue
            try:
                request_run(session=session, model=model, trigger=RetrainTrigger.SCHEDULE)
            except Conflict as refused:
                log.info("scheduled retraining of %s waits: %s", model.name, refused)
                continue
        requested += 1
    return requested

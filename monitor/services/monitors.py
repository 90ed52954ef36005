"""Configuring monitors and asking for runs: now, or over a past range (backfill)."""

from datetime import datetime

from sqlmodel import Session, select

from monitor.entities.monitor import (
    Monitor,
    MonitorBase,
    MonitorCreate,
    MonitorPublic,
    MonitorUpdate,
    parse_duration,
)
from monitor.entities.registered_model import RegisteredModel
from monitor.runs.window_frames import drift_config
from monitor.services.errors import Conflict, NotFound, Unprocessable
from monitor.store.types import utc_now

MAX_BACKFILL_WINDOWS = 10_000


def _check(settings: MonitorBase) -> None:
    try:
        drift_config(settings.drift)
    except ValueError as error:
        raise Unprocessable("drift", f"drift: {error}") from error


def _config(settings: MonitorBase) -> dict[str, object]:
    return settings.model_dump(mode="json", exclude={"name", "enabled"})


def to_public(monitor: Monitor, model: RegisteredModel) -> MonitorPublic:
    return MonitorPublic(
        **monitor.settings.model_dump(),
        id=monitor.id,  # type: ignore[arg-type]
        model=model.name,
        created_at=monitor.created_at,
        updated_at=monitor.updated_at,
    )


def get_monitor(*, session: Session, model: RegisteredModel, name: str) -> Monitor:
    monitor = session.exec(
        select(Monitor).where(Monitor.model_id == model.id).where(Monitor.name == name)
    ).first()
    if monitor is None:
        raise NotFound(
            f"model {model.name!r} has no monitor {name!r}; create it with "
            f"POST /api/v1/models/{model.name}/monitors"
        )
    return monitor


def list_monitors(*, session: Session, model: RegisteredModel) -> list[Monitor]:
    return list(
        session.exec(select(Monitor).where(Monitor.model_id == model.id).order_by(Monitor.name))
    )


def create_monitor(
    *, session: Session, model: RegisteredModel, monitor_in: MonitorCreate
) -> Monitor:
    _check(monitor_in)
    existing = session.exec(
        select(Monitor).where(Monitor.model_id == model.id).where(Monitor.name == monitor_in.name)
    ).first()
    if existing is not None:
        raise Conflict(f"model {model.name!r} already has a monitor named {monitor_in.name!r}")
    monitor = Monitor(
        model_id=model.id,  # type: ignore[arg-type]
        name=monitor_in.name,
        config=_config(monitor_in),
        enabled=monitor_in.enabled,
    )
    session.add(monitor)
    session.commit()
    session.refresh(monitor)
    return monitor


def update_monitor(
    *, session: Session, model: RegisteredModel, name: str, monitor_in: MonitorUpdate
) -> Monitor:
    monitor = get_monitor(session=session, model=model, name=name)
    merged = monitor.settings.model_copy(update=monitor_in.model_dump(exclude_unset=True))
    settings = MonitorBase.model_validate(merged.model_dump())
    _check(settings)
    monitor.config = _config(settings)
    monitor.enabled = settings.enabled
    monitor.updated_at = utc_now()
    session.add(monitor)
    session.commit()
    session.refresh(monitor)
    return monitor


def backfill_window_ends(
    monitor: Monitor, start: datetime, end: datetime, step: str | None
) -> list[datetime]:
    """Window ends from `start` (exclusive of empty windows) to `end`, one window apart.

    The step defaults to the monitor's window duration, so backfilled windows tile the range.
    """
    settings = monitor.settings
    default = settings.window.duration or settings.schedule.every
    if step is None and default is None:
        raise Unprocessable("step", "this monitor's windows have no duration; give a step, e.g. 1h")
    delta = parse_duration(step or default)  # type: ignore[arg-type]
    if end <= start:
        raise Unprocessable("end", "end must be after start")
    if (end - start) / delta > MAX_BACKFILL_WINDOWS:
        raise Unprocessable(
            "step", f"that range holds more than {MAX_BACKFILL_WINDOWS} windows; use a larger step"
        )
    count = int((end - start) / delta)
    return [start + delta * (i + 1) for i in range(count)]

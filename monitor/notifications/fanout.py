"""Turning new outbox events into deliveries, in event order: one per channel whose filters let the
event through, pending (at the time grouping says) or suppressed (grouping says it adds nothing)."""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.entities.channel import Channel
from monitor.entities.delivery import Delivery, DeliveryStatus
from monitor.entities.event import Event, EventType, Severity
from monitor.services.channels import filters_of, grouping_of
from triggers.notifications.envelope import Phase
from triggers.notifications.grouping import GroupHistory, Notified, decide

PHASES: dict[str, Phase] = {
    EventType.DRIFT_DETECTED: Phase.FIRING,
    EventType.DRIFT_ONGOING: Phase.FIRING,
    EventType.DRIFT_RESOLVED: Phase.RESOLVED,
    EventType.RUN_FAILED: Phase.FIRING,  # failing again and again is one condition, repeated
    EventType.MODEL_QUALITY_DEGRADED: Phase.FIRING,
    EventType.MODEL_QUALITY_RECOVERED: Phase.RESOLVED,
    EventType.DATA_QUALITY_NEW_CATEGORY: Phase.FIRING,
    EventType.DATA_QUALITY_MISSING_VALUES: Phase.FIRING,
    EventType.DATA_QUALITY_OUT_OF_RANGE: Phase.FIRING,
    EventType.DATA_QUALITY_TYPE_ERRORS: Phase.FIRING,
    EventType.DATA_QUALITY_RESOLVED: Phase.RESOLVED,
}


def phase_of(event_type: str) -> Phase:
    return PHASES.get(event_type, Phase.NOTICE)


def group_key_of(event: Event) -> str:
    """Events of one dedup key (`<model>/<monitor>` for drift) form a group; others stand alone."""
    return event.dedup_key or event.uid


def accepts(channel: Channel, event: Event) -> bool:
    """The channel's filters. A resolution passes the severity filter (it is logged at info) so
    that what was paged gets resolved; grouping drops one of an alert the channel never heard."""
    filters = filters_of(channel)
    if filters.event_types and event.type not in filters.event_types:
        return False
    if filters.models and event.model not in filters.models:
        return False
    floor = filters.min_severity or Severity.INFO
    return phase_of(event.type) is Phase.RESOLVED or event.severity in floor.at_least()


def _history(
    session: Session, channel_id: int, group_key: str, now: datetime
) -> tuple[GroupHistory, Delivery | None]:
    """What the group's receiver last heard, and the notification still waiting to flush (the
    latest delivery, if any is waiting: each new event supersedes the one before)."""
    recent = session.exec(
        select(Delivery)
        .where(Delivery.channel_id == channel_id)
        .where(Delivery.group_key == group_key)
        .where(Delivery.phase != Phase.NOTICE)
        .where(col(Delivery.status).in_([DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]))
        .order_by(col(Delivery.id).desc())
        .limit(2)
    ).all()
    waiting = None
    if recent and _is_waiting(recent[0], now):
        waiting, recent = recent[0], recent[1:]
    notified = Notified(Phase(recent[0].phase), recent[0].scheduled_at) if recent else None
    return GroupHistory(notified, waiting.scheduled_at if waiting else None), waiting


def _is_waiting(delivery: Delivery, now: datetime) -> bool:
    return (
        delivery.status == DeliveryStatus.PENDING
        and delivery.attempts == 0
        and delivery.next_attempt_at is not None
        and delivery.next_attempt_at > now
    )


def _deliver(session: Session, channel: Channel, event: Event, now: datetime) -> Delivery:
    phase = phase_of(event.type)
    group_key = group_key_of(event)
    history, waiting = _history(session, channel.id, group_key, now)  # type: ignore[arg-type]
    decision = decide(grouping_of(channel), phase=phase, now=now, history=history)
    if decision.supersedes_waiting and waiting is not None:
        waiting.status = DeliveryStatus.SUPPRESSED
        waiting.next_attempt_at = None
        waiting.note = f"superseded by {event.uid} before its group was flushed"
        waiting.updated_at = now
        session.add(waiting)
    delivery = Delivery(
        channel_id=channel.id,  # type: ignore[arg-type]
        event_id=event.id,  # type: ignore[arg-type]
        group_key=group_key,
        phase=phase.value,
        status=DeliveryStatus.SUPPRESSED if decision.suppressed else DeliveryStatus.PENDING,
        note=decision.reason,
        scheduled_at=decision.send_at or now,
        next_attempt_at=decision.send_at,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    session.flush()  # the next event of the group reads this one as history
    return delivery


def fan_out(session: Session, *, now: datetime, limit: int) -> int:
    """Fan out up to `limit` events not yet fanned out, oldest first; returns how many. Channels
    created later do not receive earlier events; disabled channels receive nothing meanwhile."""
    events: Sequence[Event] = session.exec(
        select(Event).where(col(Event.fanned_out_at).is_(None)).order_by(col(Event.id)).limit(limit)
    ).all()
    if not events:
        return 0
    channels = session.exec(select(Channel).where(col(Channel.enabled)).order_by(col(Channel.id)))
    enabled = list(channels)
    for event in events:
        for channel in enabled:
            if accepts(channel, event):
                _deliver(session, channel, event, now)
        event.fanned_out_at = now
        session.add(event)
    session.commit()
    return len(events)

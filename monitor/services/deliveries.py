"""Reading the delivery log, redelivering by hand, and sending a channel a test notification."""

from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from monitor.entities.channel import Channel
from monitor.entities.delivery import (
    DeliveriesPublic,
    Delivery,
    DeliveryDetail,
    DeliveryPublic,
    DeliveryStatus,
    TestNotificationResult,
)
from monitor.entities.delivery_attempt import DeliveryAttempt, DeliveryAttemptPublic
from monitor.entities.event import Event, EventType, Severity
from monitor.notifications.sending import claim, lease_for, record, send
from monitor.services.channels import get_channel
from monitor.services.errors import Conflict, NotFound
from monitor.services.events import record_event
from monitor.settings import Settings
from monitor.store.types import utc_now
from triggers.notifications import Phase
from triggers.notifications.backoff import RetryPolicy
from triggers.notifications.http import client_for

# A test is one attempt: its answer is the point, a retry would only blur it.
TEST_POLICY = RetryPolicy(max_attempts=1)


def _public(delivery: Delivery, channel: str, event: Event) -> DeliveryPublic:
    return DeliveryPublic(
        id=delivery.id,  # type: ignore[arg-type]
        channel=channel,
        event_id=event.uid,
        event_type=event.type,
        group_key=delivery.group_key,
        phase=delivery.phase,
        status=DeliveryStatus(delivery.status),
        note=delivery.note,
        attempts=delivery.attempts,
        scheduled_at=delivery.scheduled_at,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
    )


def list_deliveries(
    *,
    session: Session,
    channel: str | None = None,
    event: str | None = None,
    status: DeliveryStatus | None = None,
    offset: int = 0,
    limit: int = 100,
) -> DeliveriesPublic:
    """Deliveries, newest first, filtered by channel name, event id and status."""
    query = (
        select(Delivery, Channel.name, Event)
        .join(Channel, col(Channel.id) == Delivery.channel_id)
        .join(Event, col(Event.id) == Delivery.event_id)
    )
    if channel is not None:
        query = query.where(Channel.name == channel)
    if event is not None:
        query = query.where(Event.uid == event)
    if status is not None:
        query = query.where(Delivery.status == status)
    count = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Delivery.id).desc()).offset(offset).limit(limit)).all()
    return DeliveriesPublic(data=[_public(d, name, e) for d, name, e in rows], count=count)


def _attempts(session: Session, delivery_id: int) -> list[DeliveryAttemptPublic]:
    rows = session.exec(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == delivery_id)
        .order_by(col(DeliveryAttempt.number))
    ).all()
    return [DeliveryAttemptPublic.model_validate(row, from_attributes=True) for row in rows]


def _found(session: Session, delivery_id: int) -> tuple[Delivery, Channel, Event]:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(
            f"no delivery {delivery_id}; list them with GET /api/v1/deliveries?channel=<name>"
        )
    channel = session.get_one(Channel, delivery.channel_id)
    return delivery, channel, session.get_one(Event, delivery.event_id)


def get_delivery(*, session: Session, delivery_id: int) -> DeliveryDetail:
    delivery, channel, event = _found(session, delivery_id)
    return DeliveryDetail(
        **_public(delivery, channel.name, event).model_dump(),
        attempt_log=_attempts(session, delivery_id),
    )


def redeliver(*, session: Session, delivery_id: int, now: datetime | None = None) -> DeliveryPublic:
    """Queue a delivered, dead or suppressed delivery again, with a fresh retry budget. It keeps
    its event id, so a receiver that already has it drops the copy."""
    delivery, channel, event = _found(session, delivery_id)
    if delivery.status == DeliveryStatus.PENDING:
        raise Conflict(
            f"delivery {delivery_id} is already pending (next attempt at "
            f"{delivery.next_attempt_at.isoformat() if delivery.next_attempt_at else 'now'})"
        )
    now = now or utc_now()
    delivery.note = f"redelivery requested (was {delivery.status})"
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.scheduled_at = delivery.next_attempt_at = now
    delivery.delivered_at = None
    delivery.updated_at = now
    session.add(delivery)
    session.commit()
    session.refresh(delivery)
    return _public(delivery, channel.name, event)


def send_test(*, engine: Engine, settings: Settings, name: str) -> TestNotificationResult:
    """Send the channel a `notification.test` event now, once, and return the attempt. The event
    goes to this channel only (it is never fanned out)."""
    now = utc_now()
    with Session(engine, expire_on_commit=False) as session:
        channel = get_channel(session=session, name=name)
        event = record_event(
            session,
            type=EventType.NOTIFICATION_TEST,
            severity=Severity.INFO,
            model=None,
            data={"channel": channel.name, "message": "A test notification from model monitor."},
        )
        event.time = event.fanned_out_at = now
        session.flush()
        delivery = Delivery(
            channel_id=channel.id,  # type: ignore[arg-type]
            event_id=event.id,  # type: ignore[arg-type]
            group_key=event.uid,
            phase=Phase.NOTICE.value,
            status=DeliveryStatus.PENDING,
            note="test notification",
            scheduled_at=now,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        session.flush()
        claimed = claim(
            session,
            delivery_id=delivery.id,  # type: ignore[arg-type]
            channel=channel,
            now=now,
            lease=lease_for(settings),
            dashboard_url=settings.dashboard_url,
        )
    if claimed is None:  # the row was created in this very transaction
        raise RuntimeError("a new test delivery could not be claimed")
    result = send(
        claimed,
        client_for(settings.delivery_timeout_seconds, allow_private=settings.egress_allow_private),
    )
    record(engine, claimed, result, now=utc_now(), policy=TEST_POLICY)
    with Session(engine) as session:
        detail = get_delivery(session=session, delivery_id=claimed.delivery_id)
    return TestNotificationResult(
        delivery=DeliveryPublic(**detail.model_dump(exclude={"attempt_log"})),
        attempt=detail.attempt_log[-1],
    )

"""One attempt at a delivery, in three steps that survive a crash between any two: claim it (the
attempt is logged as `sending` and the delivery leased, in one commit), send it, record the
answer (delivered, retry with backoff, or dead). A lease that runs out means the sender died;
the next claim marks that attempt interrupted and sends again, with the same event id."""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from monitor.entities.channel import Channel
from monitor.entities.delivery import Delivery, DeliveryStatus
from monitor.entities.delivery_attempt import AttemptOutcome, DeliveryAttempt
from monitor.entities.event import Event
from monitor.services.events import to_public
from monitor.settings import Settings
from triggers.notifications import Notification, OutboundRequest, Phase, build_request
from triggers.notifications.backoff import RetryPolicy, Verdict, parse_retry_after, verdict_for
from triggers.notifications.http import HttpResult, post

log = logging.getLogger(__name__)

NOTE_LIMIT = 1000


def lease_for(settings: Settings) -> timedelta:
    """How long a claimed delivery is left alone: longer than any request can take."""
    return timedelta(seconds=2 * settings.delivery_timeout_seconds + 1)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base_seconds=settings.delivery_backoff_base_seconds,
        max_seconds=settings.delivery_backoff_max_seconds,
        max_attempts=settings.delivery_max_attempts,
        retry_after_max_seconds=settings.delivery_retry_after_max_seconds,
    )


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    attempt_id: int
    number: int  # of the attempt, over the delivery's life
    attempts: int  # since the delivery was last queued, this one included
    channel: str
    event: str
    request: OutboundRequest | None
    build_error: str | None  # the channel could not make a request at all


def _request(
    channel: Channel, event: Event, phase: Phase, now: datetime, dashboard_url: str
) -> tuple[OutboundRequest | None, str | None]:
    envelope = to_public(event, dashboard_url).model_dump(mode="json")
    try:
        request = build_request(
            channel.kind,
            Notification(envelope, phase),
            secrets=channel.secrets,
            options=channel.options,
            now=now,
        )
    except (KeyError, ValueError) as error:
        # The messages name settings, never their values.
        return None, f"channel {channel.name!r} cannot build a request: {error}"
    return request, None


def claim(
    session: Session,
    *,
    delivery_id: int,
    channel: Channel,
    now: datetime,
    lease: timedelta,
    dashboard_url: str,
) -> Claim | None:
    """Lease a due pending delivery and log the attempt as `sending`, in the session's
    transaction (committed here); None where it is no longer due (taken, redelivered...)."""
    taken = session.connection().execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .where(col(Delivery.status) == DeliveryStatus.PENDING)
        .where(col(Delivery.next_attempt_at) <= now)
        .values(attempts=col(Delivery.attempts) + 1, next_attempt_at=now + lease, updated_at=now)
    )
    if taken.rowcount != 1:
        session.rollback()
        return None
    session.connection().execute(
        update(DeliveryAttempt)
        .where(col(DeliveryAttempt.delivery_id) == delivery_id)
        .where(col(DeliveryAttempt.outcome) == AttemptOutcome.SENDING)
        .values(
            outcome=AttemptOutcome.INTERRUPTED,
            error="the dispatcher stopped before the answer was recorded",
        )
    )
    last = session.exec(
        select(func.max(DeliveryAttempt.number)).where(DeliveryAttempt.delivery_id == delivery_id)
    ).one()
    delivery = session.get_one(Delivery, delivery_id, populate_existing=True)
    event = session.get_one(Event, delivery.event_id)
    attempt = DeliveryAttempt(
        delivery_id=delivery_id,
        number=(last or 0) + 1,
        started_at=now,
        outcome=AttemptOutcome.SENDING,
    )
    session.add(attempt)
    session.flush()
    request, build_error = _request(channel, event, Phase(delivery.phase), now, dashboard_url)
    claimed = Claim(
        delivery_id=delivery_id,
        attempt_id=attempt.id,  # type: ignore[arg-type]
        number=attempt.number,
        attempts=delivery.attempts,
        channel=channel.name,
        event=event.uid,
        request=request,
        build_error=build_error,
    )
    session.commit()
    return claimed


def send(claimed: Claim, client: httpx.Client) -> HttpResult:
    if claimed.request is None:
        return HttpResult(None, 0.0, claimed.build_error, None)
    return post(claimed.request, client)


def record(
    engine: Engine,
    claimed: Claim,
    result: HttpResult,
    *,
    now: datetime,
    policy: RetryPolicy,
    uniform: Callable[[float, float], float] = random.uniform,
) -> DeliveryAttempt | None:
    """Log the answer and move the delivery on; None where the channel was deleted meanwhile."""
    verdict = Verdict.GIVE_UP if claimed.request is None else verdict_for(result.status_code)
    with Session(engine, expire_on_commit=False) as session:
        attempt = session.get(DeliveryAttempt, claimed.attempt_id)
        delivery = session.get(Delivery, claimed.delivery_id)
        if attempt is None or delivery is None:
            return None
        attempt.outcome = (
            AttemptOutcome.DELIVERED if verdict is Verdict.DELIVERED else AttemptOutcome.FAILED
        )
        attempt.status_code = result.status_code
        attempt.latency_ms = round(result.latency_ms, 3)
        attempt.error = result.error[:500] if result.error else None
        retry_after = parse_retry_after(result.retry_after, now)
        if verdict is Verdict.DELIVERED:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.note = f"delivered on attempt {claimed.number}"
        elif verdict is Verdict.RETRY and not policy.exhausted(claimed.attempts):
            wait = policy.delay(claimed.attempts, retry_after=retry_after, uniform=uniform)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            delivery.note = (
                f"attempt {claimed.number} failed ({result.error}); next attempt at "
                f"{delivery.next_attempt_at.isoformat()}"
            )[:NOTE_LIMIT]
        else:
            delivery.status = DeliveryStatus.DEAD
            delivery.next_attempt_at = None
            delivery.note = _dead_note(verdict, claimed, result)
            log.warning(
                "delivery %s of event %s to channel %r is dead: %s",
                delivery.id,
                claimed.event,
                claimed.channel,
                delivery.note,
            )
        if result.status_code == 429 and retry_after is not None:
            _pause_channel(session, delivery.channel_id, now, retry_after, policy)
        delivery.updated_at = now
        session.add(attempt)
        session.add(delivery)
        session.commit()
        return attempt


def _dead_note(verdict: Verdict, claimed: Claim, result: HttpResult) -> str:
    if verdict is Verdict.GIVE_UP:
        note = f"dead: {result.error} is not retried; fix the channel, then redeliver"
    else:
        note = (
            f"dead: the retry budget is spent ({claimed.attempts} attempts, the last: "
            f"{result.error}); redeliver once the receiver is back"
        )
    return note[:NOTE_LIMIT]


def _pause_channel(
    session: Session, channel_id: int, now: datetime, retry_after: float, policy: RetryPolicy
) -> None:
    """A 429 speaks for the whole webhook, not one message: hold the channel back as asked."""
    channel = session.get(Channel, channel_id)
    if channel is None:
        return
    until = now + timedelta(seconds=min(retry_after, policy.retry_after_max_seconds))
    if channel.next_send_at is None or channel.next_send_at < until:
        channel.next_send_at = until
        session.add(channel)

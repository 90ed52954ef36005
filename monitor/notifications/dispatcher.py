"""The dispatcher pass the active scheduler runs every `delivery_poll_seconds`: fan out new events,
then send each channel's due deliveries (one channel per worker), oldest event first, never a
later event of a group before an earlier one is delivered or dead, within the channel's rate."""

import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, exists
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from monitor.entities.channel import Channel
from monitor.entities.delivery import Delivery, DeliveryStatus
from monitor.entities.delivery_attempt import AttemptOutcome
from monitor.notifications.fanout import fan_out
from monitor.notifications.sending import Claim, claim, lease_for, record, retry_policy, send
from monitor.settings import Settings
from monitor.store.types import utc_now
from triggers.notifications.backoff import RetryPolicy
from triggers.notifications.http import client_for

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class PassReport:
    fanned_out: int  # events
    attempted: int  # deliveries
    delivered: int


def due_heads(session: Session, *, now: datetime, limit: int) -> dict[int, list[int]]:
    """Due pending deliveries of enabled channels, by channel, oldest event first, each the
    earliest pending one of its group (a later one waits for it)."""
    earlier = aliased(Delivery)
    blocked = exists().where(
        col(earlier.channel_id) == col(Delivery.channel_id),
        col(earlier.group_key) == col(Delivery.group_key),
        col(earlier.status) == DeliveryStatus.PENDING,
        col(earlier.event_id) < col(Delivery.event_id),
    )
    rows = session.exec(
        select(Delivery.channel_id, Delivery.id)
        .join(Channel, col(Channel.id) == Delivery.channel_id)
        .where(col(Channel.enabled))
        .where(Delivery.status == DeliveryStatus.PENDING)
        .where(col(Delivery.next_attempt_at) <= now)
        .where(~blocked)
        .order_by(col(Delivery.event_id))
        .limit(limit)
    ).all()
    heads: dict[int, list[int]] = defaultdict(list)
    for channel_id, delivery_id in rows:
        heads[channel_id].append(delivery_id)  # type: ignore[arg-type]
    return heads


@dataclass(frozen=True, slots=True)
class _Pass:
    engine: Engine
    settings: Settings
    clock: Clock
    horizon: datetime  # a channel whose next slot is later sits this pass out
    policy: RetryPolicy

    def _take_slot(self, session: Session, channel_id: int, delivery_id: int) -> Claim | None:
        """Claim the delivery if the channel has a free slot (rate limit, Retry-After)."""
        channel = session.get(Channel, channel_id)
        if channel is None or not channel.enabled:
            raise _ChannelClosed
        if channel.next_send_at is not None and channel.next_send_at >= self.horizon:
            raise _ChannelClosed  # the rest wait for a later pass
        now = self.clock()
        slot = timedelta(seconds=1 / channel.rate_limit_per_second)
        channel.next_send_at = max(channel.next_send_at or now, now) + slot
        session.add(channel)  # committed with the claim, or rolled back with it
        return claim(
            session,
            delivery_id=delivery_id,
            channel=channel,
            now=now,
            lease=lease_for(self.settings),
            dashboard_url=self.settings.dashboard_url,
        )

    def send_channel(self, channel_id: int, delivery_ids: list[int]) -> tuple[int, int]:
        """Send one channel's heads in order; returns (attempted, delivered)."""
        attempted = delivered = 0
        client = client_for(
            self.settings.delivery_timeout_seconds,
            allow_private=self.settings.egress_allow_private,
        )
        try:
            for delivery_id in delivery_ids:
                with Session(self.engine) as session:
                    claimed = self._take_slot(session, channel_id, delivery_id)
                if claimed is None:
                    continue
                result = send(claimed, client)
                attempt = record(self.engine, claimed, result, now=self.clock(), policy=self.policy)
                attempted += 1
                delivered += attempt is not None and attempt.outcome == AttemptOutcome.DELIVERED
        except _ChannelClosed:
            pass
        except Exception:
            # One broken channel must not hold up the others; its deliveries stay due.
            log.exception("notification channel id %s: sending failed in this pass", channel_id)
        return attempted, delivered


class _ChannelClosed(Exception):
    """The channel takes nothing more this pass (disabled, deleted, or out of slots)."""


def dispatch(engine: Engine, settings: Settings, clock: Clock = utc_now) -> PassReport:
    """One pass: fan out, then send in rounds until nothing more is due or the batch is spent."""
    started = clock()
    with Session(engine) as session:
        try:
            fanned_out = fan_out(session, now=started, limit=settings.delivery_batch_size)
        except IntegrityError:
            # A stepped-down leader's last pass fanned out the same events; they are done.
            session.rollback()
            log.info("events were fanned out by another dispatcher pass; carrying on")
            fanned_out = 0
    work = _Pass(
        engine=engine,
        settings=settings,
        clock=clock,
        horizon=started + timedelta(seconds=settings.delivery_poll_seconds),
        policy=retry_policy(settings),
    )
    attempted = delivered = 0
    while attempted < settings.delivery_batch_size:
        with Session(engine) as session:
            heads = due_heads(session, now=clock(), limit=settings.delivery_batch_size - attempted)
        if not heads:
            break
        workers = min(settings.delivery_workers, len(heads))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notify") as pool:
            results = list(pool.map(work.send_channel, heads.keys(), heads.values()))
        round_attempted = sum(a for a, _ in results)
        attempted += round_attempted
        delivered += sum(d for _, d in results)
        if round_attempted == 0:
            break
    return PassReport(fanned_out, attempted, delivered)

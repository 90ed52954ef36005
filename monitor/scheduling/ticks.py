"""Schedules as APScheduler triggers, and counting the ticks that downtime skipped."""

from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.entities.monitor import Schedule, parse_duration

MAX_COUNTED_TICKS = 100_000


def trigger_for(schedule: Schedule, start: datetime | None = None) -> BaseTrigger:
    if schedule.every is not None:
        seconds = parse_duration(schedule.every).total_seconds()
        return IntervalTrigger(seconds=seconds, start_date=start, timezone=UTC)
    assert schedule.cron is not None
    return CronTrigger.from_crontab(schedule.cron, timezone=UTC)


def ticks_between(schedule: Schedule, after: datetime, until: datetime) -> int:
    """How many ticks fall in (after, until]."""
    trigger = trigger_for(schedule, start=after)
    count = 0
    previous: datetime | None = None
    moment = after
    while count < MAX_COUNTED_TICKS:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None or fire > until:
            break
        if fire > after:
            count += 1
        previous = fire
        moment = fire
    return count

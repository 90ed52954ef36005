"""Schedules as APScheduler triggers, and counting the ticks that downtime skipped."""

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.entities.monitor import Schedule, parse_duration

MAX_COUNTED_TICKS = 100_000
# Interval schedules tick on a grid from the epoch, so every scheduler (the one that started
# a job, the one that took over) agrees on each tick's time, and so on its run's window end.
GRID_ORIGIN = datetime(1970, 1, 1, tzinfo=UTC)
MAX_LOOK_BACK = timedelta(days=800)  # past any cron schedule's longest gap (yearly, leap day)


def trigger_for(schedule: Schedule, start: datetime = GRID_ORIGIN) -> BaseTrigger:
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


def latest_tick(schedule: Schedule, now: datetime) -> datetime:
    """The schedule's latest tick at or before `now`: the time a run fired late (a busy or a
    newly elected scheduler) was due, and so the end of its window."""
    trigger = trigger_for(schedule)
    look_back = timedelta(minutes=1)
    tick: datetime | None = trigger.get_next_fire_time(None, now - look_back)
    while tick is None or tick > now:
        if look_back > MAX_LOOK_BACK:
            return now
        look_back *= 2
        tick = trigger.get_next_fire_time(None, now - look_back)
    while (following := trigger.get_next_fire_time(tick, tick)) is not None and following <= now:
        tick = following
    return tick

"""Retry policy: which answers are retried, how long to wait (jitter, Retry-After), and when the
budget is spent."""

from datetime import UTC, datetime

import pytest

from monitor.settings import Settings
from triggers.notifications.backoff import RetryPolicy, Verdict, parse_retry_after, verdict_for

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [200, 202, 204])
def test_2xx_is_delivered(status: int) -> None:
    assert verdict_for(status) is Verdict.DELIVERED


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503, 504])
def test_timeouts_5xx_and_429_are_retried(status: int | None) -> None:
    assert verdict_for(status) is Verdict.RETRY


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 410, 413, 422])
def test_other_4xx_and_redirects_are_not_retried(status: int) -> None:
    assert verdict_for(status) is Verdict.GIVE_UP


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after(" 120 ", NOW) == 120.0


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", NOW) == 30.0


def test_retry_after_in_the_past_means_now() -> None:
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "nan"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_delay_doubles_per_attempt_within_the_jitter_band() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=100.0)
    lowest = [policy.delay(n, uniform=lambda low, high: low) for n in (1, 2, 3, 4)]
    highest = [policy.delay(n, uniform=lambda low, high: high) for n in (1, 2, 3, 4)]
    assert lowest == [0.5, 1.0, 2.0, 4.0]
    assert highest == [1.0, 2.0, 4.0, 8.0]


def test_delay_is_drawn_at_random() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=100.0)
    assert len({policy.delay(5) for _ in range(20)}) > 1


def test_delay_stops_growing_at_the_maximum() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=60.0)
    assert policy.delay(40, uniform=lambda low, high: high) == 60.0


def test_retry_after_longer_than_the_backoff_is_honoured() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=60.0)
    assert policy.delay(1, retry_after=30.0) == 30.0


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(base_seconds=1.0, max_seconds=60.0, retry_after_max_seconds=120.0)
    assert policy.delay(1, retry_after=86_400.0) == 120.0


def test_budget_is_spent_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3)] == [False, False, True]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"base_seconds": 0}, "base_seconds must be > 0"),
        ({"base_seconds": 10, "max_seconds": 5}, "max_seconds"),
        ({"max_attempts": 0}, "max_attempts must be at least 1"),
    ],
)
def test_policy_refuses_impossible_settings(arguments: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**arguments)  # type: ignore[arg-type]


def test_settings_refuse_a_backoff_ceiling_below_its_base() -> None:
    with pytest.raises(ValueError, match="MONITOR_DELIVERY_BACKOFF_MAX_SECONDS must be at least"):
        Settings(delivery_backoff_base_seconds=10, delivery_backoff_max_seconds=1)

"""When to try a failed delivery again: exponential backoff with jitter on timeouts, 5xx and 429
(at least what `Retry-After` asks for), never on other 4xx, and a budget of attempts after which
the delivery is dead-lettered."""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

# 408 Request Timeout is the receiver's own timeout: retried like ours.
RETRIED_STATUSES = frozenset({408, 429})


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


def verdict_for(status_code: int | None) -> Verdict:
    """`None` means no answer (timeout, refused connection): worth retrying."""
    if status_code is None or status_code >= 500 or status_code in RETRIED_STATUSES:
        return Verdict.RETRY
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    return Verdict.GIVE_UP  # other 4xx, and 3xx: redirects are not followed for signed payloads


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (delay-seconds or HTTP-date); None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max((when - now).total_seconds(), 0.0)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempt `n` (1-based) that failed waits a uniformly drawn time between half and all of
    `min(max_seconds, base_seconds * 2 ** (n - 1))` ("equal jitter"), or longer where the receiver
    asked (`Retry-After`, honoured up to `retry_after_max_seconds`)."""

    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 12
    retry_after_max_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if not self.base_seconds > 0:
            raise ValueError(f"base_seconds must be > 0, got {self.base_seconds}")
        if self.max_seconds < self.base_seconds:
            raise ValueError(
                f"max_seconds ({self.max_seconds}) must be at least base_seconds "
                f"({self.base_seconds})"
            )
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.retry_after_max_seconds < 0:
            raise ValueError("retry_after_max_seconds must be >= 0")

    def exhausted(self, attempts: int) -> bool:
        """True once `attempts` attempts have failed and no more are allowed."""
        return attempts >= self.max_attempts

    def delay(
        self,
        attempts: int,
        *,
        retry_after: float | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** min(attempts - 1, 62))
        jittered = uniform(ceiling / 2, ceiling)
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.retry_after_max_seconds))

"""When to check a feed next. Pure functions: the clock and the randomness are parameters.

The delay honours what the server asked (RSS ttl, Cache-Control / Expires, Retry-After), moves
toward how often the feed really publishes (halfway on a log scale between the configured base
interval and the observed gap between new items, so a feed that posts weekly is not polled every
15 minutes, and one that posts every minute is polled as often as `min_s` allows), and is spread
by jitter so feeds added together do not stay in lockstep.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

# A server may ask us to wait longer than our max interval, but not for ever: after a week we
# look again anyway.
RETRY_AFTER_CAP_S = 7 * 86_400.0
# Weight of the newest gap in the moving average of a feed's update interval.
EMA_WEIGHT = 0.3


def _positive(value: float | None) -> float:
    return value if value is not None and value > 0 and math.isfinite(value) else 0.0


def next_check(
    now: datetime,
    *,
    base_s: float,
    ttl_s: float | None = None,
    cache_max_age_s: float | None = None,
    retry_after_s: float | None = None,
    update_interval_s: float | None = None,
    min_s: float,
    max_s: float,
    jitter: float = 0.0,
    rand: float = 0.5,
) -> datetime:
    """The time of the next check (see the module docstring). `rand` in [0, 1]; 0.5 = no jitter."""
    delay = float(base_s)
    interval = _positive(update_interval_s)
    if interval:
        delay = math.sqrt(delay * interval)
    spread = jitter * (2.0 * min(max(rand, 0.0), 1.0) - 1.0)
    asked = max(_positive(ttl_s), _positive(cache_max_age_s))
    # Jitter spreads our own choice both ways; what the server asked for it only lengthens, so
    # feeds that share a TTL still drift apart but none is checked sooner than it asked.
    delay = asked * (1.0 + abs(spread)) if asked >= delay else max(delay * (1.0 + spread), asked)
    retry = min(_positive(retry_after_s), RETRY_AFTER_CAP_S)
    upper = max(max_s, retry)
    delay = min(max(delay, min_s, retry), upper)
    return now + timedelta(seconds=delay)


def backoff_delay(error_count: int, *, base_s: float, max_s: float, rand: float = 0.5) -> float:
    """Seconds to wait after `error_count` consecutive failures: base * 2^(n-1), capped at max_s,
    spread between 75% and 125% by `rand` (never past max_s)."""
    n = max(1, error_count)
    raw = base_s * 2.0 ** min(n - 1, 62)
    spread = 0.75 + 0.5 * min(max(rand, 0.0), 1.0)
    return min(min(raw, max_s) * spread, max_s)


def should_disable(error_count: int, max_errors: int) -> bool:
    """After `max_errors` consecutive failures a feed is disabled (its reason is kept)."""
    return error_count >= max_errors


def observed_interval(previous_s: float | None, gap_s: float) -> float | None:
    """Exponential moving average of the gaps between a feed's new items."""
    if not math.isfinite(gap_s) or gap_s <= 0:
        return previous_s
    if previous_s is None or previous_s <= 0:
        return gap_s
    return (1.0 - EMA_WEIGHT) * previous_s + EMA_WEIGHT * gap_s


# -- glue for callers that hold a feed row and a fetch result -------------------------------------


class _FeedState(Protocol):
    @property
    def update_interval_s(self) -> float | None: ...


class _Fetched(Protocol):
    @property
    def cache_max_age(self) -> float | None: ...

    @property
    def retry_after(self) -> float | None: ...


class _PollLimits(Protocol):
    @property
    def interval_s(self) -> int: ...

    @property
    def min_interval_s(self) -> int: ...

    @property
    def max_interval_s(self) -> int: ...

    @property
    def jitter(self) -> float: ...


class _Random(Protocol):
    def random(self) -> float: ...


def next_check_for(
    feed: _FeedState,
    result: _Fetched,
    *,
    now: datetime,
    settings: _PollLimits,
    rng: _Random,
    ttl_s: float | None = None,
) -> datetime:
    """next_check from a feed row, a FetchResult, the poll settings, a random source and the TTL
    the feed states (in the body just parsed, else as stored from its last one)."""
    return next_check(
        now,
        base_s=settings.interval_s,
        ttl_s=ttl_s,
        cache_max_age_s=result.cache_max_age,
        retry_after_s=result.retry_after,
        update_interval_s=feed.update_interval_s,
        min_s=settings.min_interval_s,
        max_s=settings.max_interval_s,
        jitter=settings.jitter,
        rand=rng.random(),
    )

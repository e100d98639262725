from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from bot.config import PollSettings
from bot.ingest.schedule import (
    RETRY_AFTER_CAP_S,
    backoff_delay,
    next_check,
    next_check_for,
    observed_interval,
    should_disable,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LIMITS = {"base_s": 900.0, "min_s": 300.0, "max_s": 86_400.0}


def delay(**kwargs: float | None) -> float:
    args: dict = {**LIMITS, "jitter": 0.0, "rand": 0.5, **kwargs}
    return (next_check(NOW, **args) - NOW).total_seconds()


def test_base_interval_when_nothing_else_is_known() -> None:
    assert delay() == 900


def test_the_largest_server_request_wins() -> None:
    assert delay(ttl_s=3600) == 3600
    assert delay(cache_max_age_s=1800) == 1800
    assert delay(ttl_s=3600, cache_max_age_s=7200) == 7200
    assert delay(retry_after_s=5000, ttl_s=3600) == 5000
    assert delay(cache_max_age_s=0) == 900  # no-cache adds nothing


def test_adapts_toward_the_observed_update_interval() -> None:
    weekly = delay(update_interval_s=7 * 86_400)
    assert 900 < weekly < 7 * 86_400
    assert weekly == pytest.approx((900 * 7 * 86_400) ** 0.5)
    assert delay(update_interval_s=60) == 300  # busy feed: as often as min allows, no more
    assert delay(update_interval_s=900) == 900


def test_clamped_to_min_and_max() -> None:
    assert delay(base_s=10) == 300
    assert delay(ttl_s=10 * 86_400) == 86_400
    assert delay(update_interval_s=10**9) == 86_400


def test_retry_after_may_exceed_max_up_to_a_cap() -> None:
    assert delay(retry_after_s=2 * 86_400) == 2 * 86_400
    assert delay(retry_after_s=10**9) == RETRY_AFTER_CAP_S


def test_jitter_comes_from_rand() -> None:
    assert delay(jitter=0.1, rand=0.0) == pytest.approx(810)
    assert delay(jitter=0.1, rand=1.0) == pytest.approx(990)
    assert delay(jitter=0.1, rand=0.5) == 900
    # jitter never makes us call back before the server's Retry-After
    assert delay(jitter=0.5, rand=0.0, retry_after_s=3600) == 3600


def test_jitter_only_lengthens_what_the_server_asked_for() -> None:
    for asked in ({"ttl_s": 3600}, {"cache_max_age_s": 3600}):
        assert delay(jitter=0.1, rand=0.0, **asked) == pytest.approx(3960)
        assert delay(jitter=0.1, rand=1.0, **asked) == pytest.approx(3960)
        assert delay(jitter=0.1, rand=0.5, **asked) == 3600
        assert delay(jitter=0.1, rand=0.75, **asked) == pytest.approx(3780)
    # A TTL just under our own choice: the downward jitter stops at the TTL.
    assert delay(jitter=0.1, rand=0.0, ttl_s=850) == 850


def test_backoff_is_exponential_with_a_cap() -> None:
    delays = [backoff_delay(n, base_s=60, max_s=3600, rand=0.5) for n in range(1, 9)]
    assert delays[:6] == [60, 120, 240, 480, 960, 1920]
    assert delays[6:] == [3600, 3600]
    assert backoff_delay(0, base_s=60, max_s=3600) == 60
    assert backoff_delay(1, base_s=60, max_s=3600, rand=0.0) == 45
    assert backoff_delay(1, base_s=60, max_s=3600, rand=1.0) == 75
    assert backoff_delay(500, base_s=60, max_s=3600, rand=1.0) == 3600


def test_should_disable_after_max_errors() -> None:
    assert not should_disable(9, 10)
    assert should_disable(10, 10)
    assert should_disable(11, 10)


def test_observed_interval_is_a_moving_average() -> None:
    assert observed_interval(None, 3600) == 3600
    assert observed_interval(3600, 7200) == pytest.approx(0.7 * 3600 + 0.3 * 7200)
    assert observed_interval(3600, 0) == 3600  # two items at once say nothing about the rhythm
    assert observed_interval(None, -5) is None
    value: float | None = None
    for _ in range(40):
        value = observed_interval(value, 600)
    assert value == pytest.approx(600)


def test_next_check_for_reads_feed_result_and_settings() -> None:
    settings = PollSettings(interval_s=900, min_interval_s=300, max_interval_s=86_400, jitter=0.0)
    feed = SimpleNamespace(update_interval_s=None)
    result = SimpleNamespace(cache_max_age=None, retry_after=None)
    when = next_check_for(feed, result, now=NOW, settings=settings, rng=random.Random(1), ttl_s=7200.0)
    assert when == NOW + timedelta(seconds=7200)
    limited = SimpleNamespace(cache_max_age=None, retry_after=4000.0)
    assert next_check_for(feed, limited, now=NOW, settings=settings, rng=random.Random(1)) == NOW + timedelta(
        seconds=4000
    )

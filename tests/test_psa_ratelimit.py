"""The per-integration rate limit (R13.5): a token bucket shared through Redis, in-process without it."""

import uuid
from unittest.mock import patch

import pytest
import redis
from django.conf import settings as django_settings
from django.test import override_settings

from integrations import ratelimit
from notifications.channels.base import TransientError


@pytest.fixture(params=["redis", "local"])
def backend(request, settings):
    if request.param == "local":
        with override_settings(CELERY_BROKER_URL="filesystem://"):
            yield request.param
    else:
        yield request.param


def test_r13_5_a_burst_is_allowed_then_calls_wait_for_a_token(backend):
    key = f"bucket-{uuid.uuid4()}"
    waits = [ratelimit.take(key, per_minute=60) for _ in range(7)]
    assert waits[:6] == [0.0] * 6  # six seconds' worth of burst at 1/s
    assert 0.5 < waits[6] <= 1.0  # the seventh waits about a second
    if backend == "redis":  # shared by every worker, not just this process
        assert redis.Redis.from_url(django_settings.CELERY_BROKER_URL).exists(f"uniview:ratelimit:{key}")


def test_r13_5_buckets_are_per_integration(backend):
    a, b = f"a-{uuid.uuid4()}", f"b-{uuid.uuid4()}"
    for _ in range(6):
        ratelimit.take(a, per_minute=60)
    assert ratelimit.take(a, per_minute=60) > 0
    assert ratelimit.take(b, per_minute=60) == 0.0


def test_r13_5_a_long_wait_becomes_a_transient_error_with_retry_after(backend):
    key = f"throttle-{uuid.uuid4()}"
    ratelimit.throttle(key, per_minute=1, max_wait=0.1)  # the one token of the burst
    with pytest.raises(TransientError) as raised:
        ratelimit.throttle(key, per_minute=1, max_wait=0.1)
    assert raised.value.retry_after > 30



def bucket(backend, key) -> tuple[float, float]:
    """(tokens left, when last taken from) as the bucket holds them."""
    if backend == "redis":
        held = redis.Redis.from_url(django_settings.CELERY_BROKER_URL).hmget(f"uniview:ratelimit:{key}", "t", "ts")
        return float(held[0]), float(held[1])
    return ratelimit._local[key]


def taken_since(backend, key, before, rate=100.0, cap=600.0) -> float:
    """Tokens taken from the bucket since it held `before`, its refill accounted for (Redis keeps
    the time to a tenth of a millisecond: ±0.01 token at 100/s)."""
    tokens, ts = bucket(backend, key)
    return min(cap, before[0] + (ts - before[1]) * rate) - tokens


def test_r13_5_a_fast_integration_takes_a_few_tokens_per_call_and_never_spends_more_than_it_took(backend):
    """Issue 17: at 6,000/min (100/s) a call to the bucket takes a tenth of a second's worth (10)
    for the calls that follow on the same thread."""
    key = f"fast-{uuid.uuid4()}"
    ratelimit.throttle(key, per_minute=6000)
    first = bucket(backend, key)
    assert first[0] == 600 - 10  # a full bucket (six seconds' worth) less what was taken
    for _ in range(9):
        ratelimit.throttle(key, per_minute=6000)
    assert bucket(backend, key) == first  # spent from the reserve: the bucket was not asked
    ratelimit.throttle(key, per_minute=6000)
    assert taken_since(backend, key, first) == pytest.approx(10, abs=0.05)  # the reserve is spent: 10 more from the bucket


def test_r13_5_a_slow_integration_takes_one_token_per_call(backend):
    key = f"slow-{uuid.uuid4()}"
    ratelimit.throttle(key, per_minute=600)
    first = bucket(backend, key)
    assert first[0] == 60 - 1
    ratelimit.throttle(key, per_minute=600)
    assert taken_since(backend, key, first, rate=10.0, cap=60.0) == pytest.approx(1, abs=0.05)


def test_r13_5_tokens_taken_ahead_are_dropped_after_a_second(backend):
    key = f"stale-{uuid.uuid4()}"
    ratelimit.throttle(key, per_minute=6000)
    first = bucket(backend, key)
    later = ratelimit.time.monotonic() + 2
    with patch.object(ratelimit.time, "monotonic", return_value=later):
        ratelimit.throttle(key, per_minute=6000)
    assert taken_since(backend, key, first) == pytest.approx(10, abs=0.05)  # the 9 kept were stale: the bucket was asked again

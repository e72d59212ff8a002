"""The per-integration rate limit (R13.5): a token bucket shared through Redis, in-process without it."""

import uuid

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

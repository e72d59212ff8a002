"""A per-integration token bucket (R13.5 "a per-integration rate limit").

Shared across workers through Redis when the broker is Redis (one small Lua
script, atomic); in-process otherwise (the embedded default has one worker).
A caller waits briefly for a token; past `max_wait` it gets a TransientError,
so the delivery backs off instead of holding a worker.

A fast integration's tokens are taken a few at a time (issue 17): `throttle` takes up to a
tenth of a second's worth in one call and keeps the rest for the next calls on the same
thread, for at most RESERVE_SECONDS, then drops them. A token is spent only after it was taken
from the bucket, so the limit holds; a dropped one is a call not made, never one too many.
"""

import threading
import time

from django.conf import settings

from integrations.http import TransientError

_LUA = """
local rate = tonumber(ARGV[1]); local cap = tonumber(ARGV[2]); local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local want = tonumber(ARGV[4]) or 1
local wait = 0
local taken = 0
if tokens >= 1 then taken = math.min(want, math.floor(tokens)); tokens = tokens - taken else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return {taken, tostring(wait)}
"""

# How long a thread keeps tokens it took ahead; past that they are dropped.
RESERVE_SECONDS = 1.0
RESERVE_MAX = 16

_local: dict[str, tuple[float, float]] = {}
_lock = threading.Lock()
_script = None
_reserved = threading.local()


def _take_local(key, rate, cap, now, want) -> tuple[int, float]:
    with _lock:
        tokens, ts = _local.get(key, (cap, now))
        tokens = min(cap, tokens + max(0.0, now - ts) * rate)
        taken, wait = 0, 0.0
        if tokens >= 1:
            taken = min(want, int(tokens))
            tokens -= taken
        else:
            wait = (1 - tokens) / rate
        _local[key] = (tokens, now)
        return taken, wait


def _take_redis(key, rate, cap, now, want) -> tuple[int, float]:
    global _script
    if _script is None:
        import redis  # noqa: PLC0415

        _script = redis.Redis.from_url(settings.CELERY_BROKER_URL).register_script(_LUA)
    taken, wait = _script(keys=[f"uniview:ratelimit:{key}"], args=[rate, cap, now, want])
    return int(taken), float(wait)


def _take(key: str, per_minute: int, want: int) -> tuple[int, float]:
    """Take up to `want` tokens now: (how many were taken, 0.0), or (0, seconds until one is free)."""
    rate = max(per_minute, 1) / 60.0
    cap = max(1.0, per_minute / 10.0)  # a burst of six seconds' worth
    now = time.time()
    if str(settings.CELERY_BROKER_URL).startswith("redis"):
        try:
            return _take_redis(key, rate, cap, now, want)
        except Exception:  # Redis down: limit in-process rather than not at all
            pass
    return _take_local(key, rate, cap, now, want)


def take(key: str, per_minute: int) -> float:
    """Take a token now, or answer how many seconds until one is free (nothing taken)."""
    return _take(key, per_minute, 1)[1]


def throttle(key: str, per_minute: int, max_wait: float = 5.0) -> None:
    """Return once a token is ours: one this thread took ahead, else one (and a few ahead,
    for a fast integration) taken from the bucket, waiting up to `max_wait` for it."""
    if _spend_reserved(key):
        return
    want = min(RESERVE_MAX, max(1, per_minute // 600))  # a tenth of a second's worth
    deadline = time.monotonic() + max_wait
    while True:
        taken, wait = _take(key, per_minute, want)
        if taken:
            if taken > 1:
                _reserve(key, taken - 1)
            return
        if time.monotonic() + wait > deadline:
            raise TransientError(f"rate limit of {per_minute}/min reached", retry_after=wait)
        time.sleep(wait)


def _reserve(key, count):
    if not hasattr(_reserved, "by_key"):
        _reserved.by_key = {}
    _reserved.by_key[key] = (count, time.monotonic() + RESERVE_SECONDS)


def _spend_reserved(key) -> bool:
    count, until = getattr(_reserved, "by_key", {}).get(key, (0, 0.0))
    if count <= 0 or time.monotonic() > until:
        return False
    _reserved.by_key[key] = (count - 1, until)
    return True

"""A per-integration token bucket (R13.5 "a per-integration rate limit").

Shared across workers through Redis when the broker is Redis (one small Lua
script, atomic); in-process otherwise (the embedded default has one worker).
A caller waits briefly for a token; past `max_wait` it gets a TransientError,
so the delivery backs off instead of holding a worker.
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
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""

_local: dict[str, tuple[float, float]] = {}
_lock = threading.Lock()
_script = None


def _take_local(key, rate, cap, now) -> float:
    with _lock:
        tokens, ts = _local.get(key, (cap, now))
        tokens = min(cap, tokens + max(0.0, now - ts) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        _local[key] = (tokens, now)
        return wait


def _take_redis(key, rate, cap, now) -> float:
    global _script
    if _script is None:
        import redis  # noqa: PLC0415

        _script = redis.Redis.from_url(settings.CELERY_BROKER_URL).register_script(_LUA)
    return float(_script(keys=[f"uniview:ratelimit:{key}"], args=[rate, cap, now]))


def take(key: str, per_minute: int) -> float:
    """Take a token now, or answer how many seconds until one is free (nothing taken)."""
    rate = max(per_minute, 1) / 60.0
    cap = max(1.0, per_minute / 10.0)  # a burst of six seconds' worth
    now = time.time()
    if str(settings.CELERY_BROKER_URL).startswith("redis"):
        try:
            return _take_redis(key, rate, cap, now)
        except Exception:  # Redis down: limit in-process rather than not at all
            pass
    return _take_local(key, rate, cap, now)


def throttle(key: str, per_minute: int, max_wait: float = 5.0) -> None:
    deadline = time.monotonic() + max_wait
    while True:
        wait = take(key, per_minute)
        if wait <= 0:
            return
        if time.monotonic() + wait > deadline:
            raise TransientError(f"rate limit of {per_minute}/min reached", retry_after=wait)
        time.sleep(wait)

"""Outbound rate limits, shared by every process through a token bucket in Redis.

Without REDIS_URL (the embedded default) each process keeps its own buckets, which
holds the limits for a single worker process only.
"""

from __future__ import annotations

import threading
import time
from functools import cache

import redis
from django.conf import settings

# Meta's published limits: WhatsApp 80 messages/s per phone number and about one
# message every 6 s to one recipient (short bursts allowed); Instagram 100 calls/s per
# account and 750 private replies an hour.
LIMITS: dict[str, tuple[float, float]] = {
    # name: (tokens per second, bucket capacity)
    "whatsapp": (80.0, 80.0),
    "whatsapp_recipient": (1 / 6, 10.0),
    "instagram": (100.0, 100.0),
    "instagram_private_reply": (750 / 3600, 750.0),
    "messenger": (100.0, 100.0),
    # Padu's own: looking up customers' profiles takes at most a fifth of an account's
    # calls, so a crowd of new customers does not hold back replies.
    "user_profile": (20.0, 20.0),
}

# Takes `n` tokens now, or reserves them (the balance may go negative) when the wait
# is at most max_wait; answers the seconds to wait. Redis' clock keeps processes agreed.
_TAKE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local n, max_wait = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or t
tokens = math.min(capacity, tokens + math.max(0, t - ts) * rate)
local wait = 0
if tokens < n then wait = (n - tokens) / rate end
if wait <= max_wait then tokens = tokens - n end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity + n) / rate * 1000) + 1000)
return tostring(wait)
"""


class Throttled(Exception):
    """The limit would make this call wait longer than allowed; retry after `retry_after`."""

    def __init__(self, bucket: str, retry_after: float) -> None:
        super().__init__(f"Rate limit for {bucket}: retry in {retry_after:.1f} s.")
        self.retry_after = retry_after


@cache
def _redis_take():
    connection = redis.Redis.from_url(settings.REDIS_URL)
    return connection.register_script(_TAKE)


class _LocalBuckets:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, capacity: float, n: float, max_wait: float) -> float:
        with self.lock:
            now = time.monotonic()
            tokens, stamp = self.state.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - stamp) * rate)
            wait = (n - tokens) / rate if tokens < n else 0.0
            if wait <= max_wait:
                tokens -= n
            self.state[key] = (tokens, now)
            return wait


_local = _LocalBuckets()


def acquire(limit: str, subject: str, *, max_wait: float = 1.0) -> None:
    """Wait for a token of `limit` for `subject` (a channel or recipient id): return at
    once, sleep up to `max_wait`, or raise Throttled when the wait would be longer."""
    rate, capacity = LIMITS[limit]
    key = f"padu:ratelimit:{limit}:{subject}"
    if settings.REDIS_URL:
        wait = float(_redis_take()(keys=[key], args=[rate, capacity, 1, max_wait]))
    else:
        wait = _local.take(key, rate, capacity, 1, max_wait)
    if wait > max_wait:
        raise Throttled(limit, wait)
    if wait > 0:
        time.sleep(wait)

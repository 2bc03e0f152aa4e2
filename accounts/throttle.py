"""Sign-in throttling, kept in the shared cache (Redis in production) so every web
process sees the same counts.

After LOGIN_FAILURE_LIMIT_PER_USERNAME failures for one e-mail address, or
LOGIN_FAILURE_LIMIT_PER_IP from one address, within LOGIN_FAILURE_WINDOW_SECONDS,
further attempts are refused for LOGIN_LOCKOUT_SECONDS.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(kind: str, value: str) -> tuple[str, str]:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    return f"login-failures:{kind}:{digest}", f"login-locked:{kind}:{digest}"


def _subjects(username: str, ip: str | None) -> list[tuple[str, str, int]]:
    subjects = [("user", username, settings.LOGIN_FAILURE_LIMIT_PER_USERNAME)]
    if ip:
        subjects.append(("ip", ip, settings.LOGIN_FAILURE_LIMIT_PER_IP))
    return subjects


def is_locked(username: str, ip: str | None) -> bool:
    lock_keys = [_keys(kind, value)[1] for kind, value, _ in _subjects(username, ip)]
    return bool(cache.get_many(lock_keys))


def record_failure(username: str, ip: str | None) -> bool:
    """Count a failed attempt; True when it locks the username or the address."""
    locked = False
    for kind, value, limit in _subjects(username, ip):
        failures_key, lock_key = _keys(kind, value)
        # add() starts the window only on the first failure; incr() is atomic.
        cache.add(failures_key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            failures = cache.incr(failures_key)
        except ValueError:  # the window ran out between add() and incr()
            cache.set(failures_key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
            failures = 1
        if failures >= limit:
            cache.set(lock_key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)
            cache.delete(failures_key)
            locked = True
    return locked


def record_success(username: str) -> None:
    cache.delete(_keys("user", username)[0])

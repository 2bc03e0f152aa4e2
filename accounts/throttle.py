"""Attempt budgets kept in the shared cache (Redis in production), so every web process
sees the same counts.

An attempt is counted *before* it is tried: concurrent attempts each get their own
number from one atomic increment, so a budget of five lets at most five through however
many arrive at once.

Sign-in budgets: LOGIN_FAILURE_LIMIT_PER_USERNAME attempts per account (every spelling of
an address that reaches the account shares it; addresses with no account are counted
each on its own) and LOGIN_FAILURE_LIMIT_PER_IP per client address, within
LOGIN_FAILURE_WINDOW_SECONDS; once spent, further attempts are refused for
LOGIN_LOCKOUT_SECONDS. A successful sign-in gives back what it used.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _count(key: str, window_seconds: int) -> int:
    """Add one to `key`, starting a window of `window_seconds` on the first; atomic."""
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # the window ran out between add() and incr()
        cache.add(key, 0, timeout=window_seconds)
        return cache.incr(key)


def hit(scope: str, subject: str, *, limit: int, window_seconds: int) -> bool:
    """Count one use of `scope` by `subject`; False once more than `limit` uses fell in
    the current window (the use is refused)."""
    return _count(f"budget:{scope}:{_digest(subject)}", window_seconds) <= limit


@dataclass(frozen=True)
class SignInAttempt:
    """One counted sign-in attempt: `allowed` says whether the password may be checked."""

    account_key: str
    ip_key: str | None
    allowed: bool
    account_attempts: int

    @property
    def spends_account_budget(self) -> bool:
        """This attempt was the last the account's budget allowed."""
        return self.account_attempts == settings.LOGIN_FAILURE_LIMIT_PER_USERNAME


def _take(counter_key: str, limit: int) -> tuple[bool, int]:
    attempts = _count(counter_key, settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if attempts == limit + 1:
        # The first refused attempt starts the lockout; the counter is never reset
        # meanwhile, so attempts racing with this one are refused too.
        cache.touch(counter_key, timeout=settings.LOGIN_LOCKOUT_SECONDS)
    return attempts <= limit, attempts


def _account_key(account: str) -> str:
    return f"sign-in:account:{_digest(account)}"


def sign_in_begin(*, account: str, ip: str | None) -> SignInAttempt:
    """Count an attempt against the client address and then the account (`account` names
    it: "user:<pk>" for a known account, "address:<e-mail>" otherwise). An address out of
    attempts spends nothing of the account's budget."""
    account_key = _account_key(account)
    ip_key = f"sign-in:ip:{_digest(ip)}" if ip else None
    if ip_key and not _take(ip_key, settings.LOGIN_FAILURE_LIMIT_PER_IP)[0]:
        return SignInAttempt(account_key, ip_key, allowed=False, account_attempts=0)
    allowed, attempts = _take(account_key, settings.LOGIN_FAILURE_LIMIT_PER_USERNAME)
    return SignInAttempt(account_key, ip_key, allowed, attempts)


def sign_in_succeeded(attempt: SignInAttempt) -> None:
    """The password was right: the account's budget starts again and the client
    address gets back the attempt it spent."""
    cache.delete(attempt.account_key)
    if attempt.ip_key:
        with contextlib.suppress(ValueError):  # its window has ended
            cache.decr(attempt.ip_key)


def sign_in_budget_restore(*, account: str) -> None:
    """Give the account its whole budget back (its holder just proved the address)."""
    cache.delete(_account_key(account))

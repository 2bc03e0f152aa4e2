"""How a forwarded event is signed, Stripe- and Svix-style: the header

    Padu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">

keyed with the endpoint's secret. A receiver recomputes the HMAC over the raw body,
compares in constant time, and refuses a timestamp more than TOLERANCE_SECONDS away from
its clock (a replayed request). `verify` is that receiver, for tests and as an example."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Padu-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secret: str, body: bytes, header: str, *, now: float | None = None) -> bool:
    """Whether `header` signs `body` with `secret`, made within the tolerance."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _digest(secret, timestamp, body))

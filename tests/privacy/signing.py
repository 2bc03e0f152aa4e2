"""Signed requests as Meta's callbacks post them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_request(payload: object, secret: str, *, raw_payload: bytes | None = None) -> str:
    payload_part = b64url(raw_payload if raw_payload is not None else json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), payload_part.encode(), hashlib.sha256).digest()
    return f"{b64url(signature)}.{payload_part}"


def for_user(user_id: str, secret: str) -> str:
    return signed_request(
        {"algorithm": "HMAC-SHA256", "issued_at": 1_767_000_000, "user_id": user_id}, secret
    )

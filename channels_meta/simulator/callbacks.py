"""Meta's calls when someone removes the app or asks for their data to be deleted: a
form POST of `signed_request` (base64url without padding: the HMAC-SHA256 of the
payload under the app secret, then the JSON payload) to the app's callback URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx

CALLBACK_PATHS = {
    "data-deletion": "/webhooks/meta/data-deletion/",
    "deauthorize": "/webhooks/meta/deauthorize/",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_request(payload: dict, app_secret: str) -> str:
    payload_part = _b64url(json.dumps(payload).encode())
    signature = hmac.new(app_secret.encode(), payload_part.encode(), hashlib.sha256).digest()
    return f"{_b64url(signature)}.{payload_part}"


def callback_send(
    *, base_url: str, callback: str, meta_user_id: str, app_secret: str
) -> httpx.Response:
    """POST the callback for this app-scoped user to the app at `base_url`."""
    payload = {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "user_id": meta_user_id}
    return httpx.post(
        base_url.rstrip("/") + CALLBACK_PATHS[callback],
        data={"signed_request": signed_request(payload, app_secret)},
        timeout=10,
    )

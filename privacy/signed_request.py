"""Meta's `signed_request`, which its data deletion and deauthorize callbacks post:
`<signature>.<payload>`, both base64url without padding, the signature being the
HMAC-SHA256 of the payload's base64url text under the app secret, the payload JSON
naming the algorithm and the app-scoped user id."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.ids import NODE_ID_PATTERN

BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
ALGORITHM = "HMAC-SHA256"


class SignedRequestError(ValueError):
    """Not a signed request Padu can trust; the message says why, without secrets."""


def _decode(part: str) -> bytes:
    if not BASE64URL.fullmatch(part):
        raise SignedRequestError("The signed request is not base64url.")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as error:
        raise SignedRequestError("The signed request is not base64url.") from error


@dataclass(frozen=True)
class SignedRequest:
    meta_user_id: str  # the app-scoped id of the person
    instagram_login: bool  # signed by the Instagram app (Instagram Login), not the Facebook app


@sensitive_variables()
def _signed_by(payload_part: str, signature: bytes) -> str | None:
    """Which of Padu's Meta apps signed the payload: "facebook" (META_APP_SECRET),
    "instagram" (META_INSTAGRAM_APP_SECRET, Instagram Login's own app), or None."""
    apps = (
        ("facebook", settings.META_APP_SECRET),
        ("instagram", settings.META_INSTAGRAM_APP_SECRET),
    )
    for app, secret in apps:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), payload_part.encode("ascii"), hashlib.sha256)
        if hmac.compare_digest(expected.digest(), signature):
            return app
    return None


def signed_request_read(signed_request: str) -> SignedRequest:
    """Who a valid signed request names, and which app signed it; or SignedRequestError."""
    parts = signed_request.split(".")
    if len(parts) != 2:
        raise SignedRequestError("A signed request has two parts separated by a dot.")
    signature_part, payload_part = parts
    signature = _decode(signature_part)
    _decode(payload_part)
    app = _signed_by(payload_part, signature)
    if app is None:
        raise SignedRequestError("The signature does not match the app secret.")
    try:
        payload = json.loads(_decode(payload_part))
    except (ValueError, UnicodeDecodeError) as error:
        raise SignedRequestError("The payload is not JSON.") from error
    if not isinstance(payload, dict):
        raise SignedRequestError("The payload is not a JSON object.")
    algorithm = payload.get("algorithm")
    if not isinstance(algorithm, str) or algorithm.upper() != ALGORITHM:
        raise SignedRequestError("The payload does not say HMAC-SHA256.")
    user_id = payload.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not NODE_ID_PATTERN.fullmatch(user_id):
        raise SignedRequestError("The payload names no Meta user id.")
    return SignedRequest(meta_user_id=user_id, instagram_login=app == "instagram")

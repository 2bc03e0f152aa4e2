"""Meta's webhook endpoint. It does as little as it can: check the signature on the raw
body, store the delivery, hand it to a worker, answer.

It never answers 200 for a delivery it did not store, so Meta retries it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from accounts.net import client_ip
from channels_meta import tasks
from channels_meta.webhooks import dispatch, processing

logger = logging.getLogger(__name__)

BAD_SIGNATURE_COUNTER = "padu:webhooks:bad_signatures"


def _digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()


def _is_instagram_delivery(body: bytes) -> bool:
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("object") == "instagram"


@sensitive_variables("given")
def signature_is_valid(body: bytes, header: str) -> bool:
    """X-Hub-Signature-256 is `sha256=` and the HMAC-SHA256 of the raw body under the
    app secret; compared as bytes in constant time. A malformed header is just invalid.

    Deliveries for accounts connected with Instagram Login may be signed with the
    Instagram app's secret instead (Meta's documentation says only "your App Secret", and
    that app has one of its own): that secret is accepted too, for `instagram` deliveries
    only, so it can never vouch for a Page's or a WhatsApp account's events."""
    try:
        given = header.encode("ascii")
    except UnicodeEncodeError:
        return False
    if not given.startswith(b"sha256="):
        return False
    given = given.removeprefix(b"sha256=").strip().lower()
    app_secret = settings.META_APP_SECRET
    instagram_secret = settings.META_INSTAGRAM_APP_SECRET
    # Both digests are computed and compared whatever the first answer, so the time taken
    # does not say which secret matched.
    by_app = bool(app_secret) and hmac.compare_digest(_digest(app_secret, body), given)
    by_instagram = bool(instagram_secret) and hmac.compare_digest(
        _digest(instagram_secret, body), given
    )
    return by_app or (by_instagram and _is_instagram_delivery(body))


def _count_bad_signature() -> None:
    try:
        cache.add(BAD_SIGNATURE_COUNTER, 0, timeout=None)
        cache.incr(BAD_SIGNATURE_COUNTER)
    except Exception:  # counting is best effort; refusing the delivery is what matters
        logger.debug("Could not count a bad webhook signature", exc_info=True)


def _enqueue(event_id: int) -> None:
    # No publishing retries: a broker outage must not hold Meta's request open.
    dispatch.enqueue(
        event_id,
        publish_one=lambda one: tasks.webhook_event_process.apply_async((one,), retry=False),
        publish_many=lambda ids: tasks.webhook_events_process.apply_async((ids,), retry=False),
    )


def _verify_subscription(request: HttpRequest) -> HttpResponse:
    token = settings.META_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and token
        and hmac.compare_digest(token.encode(), given.encode())
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse("Verification failed.", status=403, content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verify_subscription(request)
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.WEBHOOK_MAX_BODY_BYTES:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    try:
        body = request.body
    except RequestDataTooBig:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    if not signature_is_valid(body, request.META.get("HTTP_X_HUB_SIGNATURE_256", "")):
        logger.warning(
            "Refused a webhook with a missing or wrong signature from %s", client_ip(request)
        )
        _count_bad_signature()
        return HttpResponse("Bad signature.", status=403, content_type="text/plain")
    try:
        processing.webhook_event_store(body=body, enqueue=_enqueue)
    except DatabaseError:
        logger.exception("Could not store a webhook delivery; Meta will retry it")
        return HttpResponse("Try again later.", status=503, content_type="text/plain")
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")

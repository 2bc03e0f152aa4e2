"""The webhook endpoint: verification handshake, signatures on the raw body, storing
before answering, and what happens when the database or the broker is down."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from channels_meta import tasks
from channels_meta.models import WebhookEvent, WebhookEventStatus
from channels_meta.webhooks.fast_lane import WebhookFastLaneHandler
from tests.channels_meta import payloads

pytestmark = pytest.mark.django_db

SECRET = "webhook-test-app-secret"
URL = "/webhooks/meta/"


@pytest.fixture(autouse=True)
def _app(settings):
    settings.META_APP_SECRET = SECRET
    settings.META_VERIFY_TOKEN = "verify-me"


def post(client, body: bytes, signature: str | None = "auto"):
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = payloads.sign(body, SECRET)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_the_url_is_where_meta_is_told_to_call():
    assert reverse("meta_webhook") == URL


def test_the_verification_handshake_echoes_the_challenge():
    from django.test import Client

    client = Client()
    ok = client.get(
        URL,
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    wrong_token = client.get(
        URL, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
    )
    wrong_mode = client.get(
        URL, {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "1"}
    )

    assert (ok.status_code, ok.content, ok["Content-Type"]) == (200, b"1158201444", "text/plain")
    assert wrong_token.status_code == 403
    assert wrong_mode.status_code == 403


def test_a_signed_delivery_is_stored_then_answered(client, django_capture_on_commit_callbacks):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))

    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client, body)

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert event.status == WebhookEventStatus.PENDING
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "", "sha256=", "sha256=" + "0" * 64, "sha1=abcdef", "md5=whatever"],
)
def test_missing_or_wrong_signatures_are_refused_and_nothing_is_stored(client, signature):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))

    response = post(client, body, signature)

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


INSTAGRAM_SECRET = "webhook-test-instagram-app-secret"


@pytest.mark.parametrize(
    ("object_type", "secret", "accepted"),
    [
        ("instagram", SECRET, True),
        ("instagram", INSTAGRAM_SECRET, True),
        ("page", SECRET, True),
        ("page", INSTAGRAM_SECRET, False),
        ("whatsapp_business_account", INSTAGRAM_SECRET, False),
        ("instagram", "some-other-secret", False),
    ],
)
def test_instagram_deliveries_may_be_signed_with_the_instagram_apps_secret(
    client, settings, object_type, secret, accepted
):
    settings.META_INSTAGRAM_APP_SECRET = INSTAGRAM_SECRET
    body = payloads.encode(payloads.messaging(object_type, payloads.IG_ID))

    response = post(client, body, payloads.sign(body, secret))

    assert response.status_code == (200 if accepted else 403)
    assert WebhookEvent.objects.exists() is accepted


def test_without_an_instagram_app_secret_only_the_app_secret_signs(client, settings):
    settings.META_INSTAGRAM_APP_SECRET = ""
    body = payloads.encode(payloads.messaging("instagram", payloads.IG_ID))

    assert post(client, body, payloads.sign(body, "")).status_code == 403
    assert post(client, body, payloads.sign(body, SECRET)).status_code == 200


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=ı",
        "sha256=\xe9\xff\xfe",
        "sha256=" + "0" * 63 + "ı",
        "ｓha256=" + "0" * 64,
    ],
)
def test_a_signature_header_that_is_not_ascii_gets_403_and_nothing_is_stored(client, signature):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))

    response = post(client, body, signature)

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_the_correct_signature_followed_by_latin_1_bytes_is_refused(client):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))
    # A WSGI server hands header bytes over decoded as latin-1.
    latin_1 = (payloads.sign(body, SECRET).encode() + b"\xe9").decode("latin-1")

    response = client.post(
        URL, data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=latin_1
    )

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_a_signature_over_re_serialized_json_does_not_match_the_raw_body(client):
    payload = payloads.messaging(
        "page",
        payloads.PAGE_ID,
        payloads.customer_message(payloads.PAGE_ID, "1", "m_1", text="Ayşe 😍"),
    )
    raw = payloads.encode(payload)
    reserialized = json.dumps(payload, ensure_ascii=False).encode()

    response = post(client, raw, payloads.sign(reserialized, SECRET))

    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_bodies_over_the_limit_get_413_and_3_mb_is_accepted(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 4 * 1024 * 1024
    padding = "x" * (3 * 1024 * 1024)
    accepted = payloads.encode({"object": "page", "entry": [], "padding": padding})
    too_big = payloads.encode({"object": "page", "entry": [], "padding": padding * 2})

    assert post(client, accepted).status_code == 200
    assert post(client, too_big).status_code == 413
    assert WebhookEvent.objects.count() == 1


def test_when_the_broker_is_down_the_event_is_kept_and_answered_at_once(
    client, django_capture_on_commit_callbacks, broker_down
):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body)

    assert response.status_code == 200
    assert time.monotonic() - started < 2
    assert WebhookEvent.objects.get().status == WebhookEventStatus.PENDING


def test_the_sweeper_processes_events_left_pending(
    client, django_capture_on_commit_callbacks, celery_eager
):
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))
    with django_capture_on_commit_callbacks(execute=False):
        post(client, body)
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.update(received_at=event.received_at - timedelta(minutes=5))

    assert tasks.webhook_events_sweep.delay().get() == 1

    event.refresh_from_db()
    assert event.status == WebhookEventStatus.IGNORED


def test_a_body_that_is_not_json_is_kept_and_marked_failed(
    client, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, b"{not json")

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.FAILED
    assert "not JSON" in event.error


def test_an_unknown_object_is_kept_and_marked_ignored(
    client, django_capture_on_commit_callbacks, celery_eager
):
    body = payloads.encode({"object": "permissions", "entry": [{"id": "1", "changes": []}]})

    with django_capture_on_commit_callbacks(execute=True):
        post(client, body)

    event = WebhookEvent.objects.get()
    assert event.status == WebhookEventStatus.IGNORED
    assert "Unknown object 'permissions'" in event.error


def test_the_endpoint_needs_no_csrf_token_and_sets_no_cookie(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))

    response = post(strict, body)

    assert response.status_code == 200
    assert not response.cookies


@pytest.mark.django_db(transaction=True)
def test_through_the_wsgi_server_deliveries_skip_the_browser_middleware(settings):
    settings.ALLOWED_HOSTS = ["padu.example"]
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))
    signed = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": payloads.sign(body, SECRET),
    }
    server = httpx.Client(transport=httpx.WSGITransport(app=WebhookFastLaneHandler()))

    delivered = server.post(f"http://padu.example{URL}", content=body, headers=signed)
    unsigned = server.post(f"http://padu.example{URL}", content=body)
    wrong_host = server.post(f"http://evil.example{URL}", content=body, headers=signed)
    handshake = server.get(
        f"http://padu.example{URL}",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "7"},
    )
    page = server.get(f"http://padu.example{reverse('login')}")

    assert (delivered.status_code, delivered.text) == (200, "EVENT_RECEIVED")
    # No session, language, CSP or framing work is done for Meta's POST...
    assert not {"content-security-policy", "vary", "content-language"} & set(delivered.headers)
    # ...while people's pages still get it, and the rest of the rules hold.
    assert {"content-security-policy", "vary"} <= set(page.headers)
    assert (unsigned.status_code, wrong_host.status_code) == (403, 400)
    assert (handshake.status_code, handshake.text) == (200, "7")
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_through_the_wsgi_server_a_lost_connection_is_replaced_after_the_503():
    body = payloads.encode(payloads.messaging("page", payloads.PAGE_ID))
    signed = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": payloads.sign(body, SECRET),
    }
    server = httpx.Client(transport=httpx.WSGITransport(app=WebhookFastLaneHandler()))
    connection.ensure_connection()
    with psycopg.connect(**connection.get_connection_params()) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
        admin.commit()

    lost = server.post(f"http://localhost{URL}", content=body, headers=signed)
    retried = server.post(f"http://localhost{URL}", content=body, headers=signed)

    assert (lost.status_code, retried.status_code) == (503, 200)
    assert WebhookEvent.objects.count() == 1

"""Meta's data deletion and deauthorize callbacks, end to end: the signed request checked,
the request recorded and carried out by the worker, what Padu held through that Meta
user gone from every table and from storage, everyone else's data untouched, and the
progress readable on the public status page."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import httpx
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Notice, Organization
from channels_meta.graph import client as graph_client
from channels_meta.models import Channel, ChannelKind, ChannelStatus, WebhookEvent
from channels_meta.webhooks.processing import webhook_events_process
from inbox.models import Contact, Message, Note
from privacy import tasks
from privacy.models import DataRequest, RequestStatus
from privacy.services import data_requests
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import give_avatar, make_attachment
from tests.privacy.scan import columns_holding, stored_files
from tests.privacy.signing import for_user

SECRET = "callback-app-secret"
INSTAGRAM_SECRET = "instagram-login-app-secret"
META_USER = "9900000000000042"  # the Meta user who connected the Page
CUSTOMER = "7200000000000001"  # a customer of that Page
KEPT_CUSTOMER = "905551112233"  # a WhatsApp customer of a number someone else connected


@pytest.fixture(autouse=True)
def _app(settings):
    settings.META_APP_SECRET = SECRET
    settings.META_INSTAGRAM_APP_SECRET = INSTAGRAM_SECRET
    settings.SITE_URL = "https://padu.example"


def _record(body: dict) -> WebhookEvent:
    """A delivery stored and processed as the webhook endpoint and the worker do."""
    event = WebhookEvent.objects.create(body=p.encode(body))
    webhook_events_process(event_ids=[event.pk])
    event.refresh_from_db()
    assert event.status in ("processed", "ignored"), event.error
    return event


@pytest.fixture
def held(world):
    """A Page connected by META_USER with a customer's conversation (messages, a photo,
    a picture, a note, local fields), a WhatsApp number connected by someone else, and
    in another organisation a contact who happens to have META_USER's id."""
    page = make_channel(
        world.org, kind=ChannelKind.MESSENGER, external_id=p.PAGE_ID, meta_user_id=META_USER
    )
    whatsapp = make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID,
        meta_user_id="9900000000000077",
    )  # fmt: skip
    elsewhere = make_channel(
        world.other_org, kind=ChannelKind.INSTAGRAM, external_id=p.IG_ID, meta_user_id="555"
    )
    _record(
        p.messaging(
            "page",
            p.PAGE_ID,
            p.customer_message(p.PAGE_ID, CUSTOMER, "m_parcel", "Zeynep here, where is my parcel?"),
        )
    )
    _record(p.whatsapp_message(KEPT_CUSTOMER, "wamid.kept", text={"body": "Keep this one"}))
    read = {"sender": {"id": "7299999999999999"}, "recipient": {"id": p.PAGE_ID},
            "timestamp": p.T_MS, "read": {"watermark": p.T_MS}}  # fmt: skip
    _record(p.messaging("page", p.PAGE_ID, read))  # names the Page, and no contact
    customer = Contact.objects.get(channel=page, external_id=CUSTOMER)
    customer.email, customer.notes = "zeynep@mail.example", "Prefers Zeynep's parcel left at door"
    customer.save()
    give_avatar(customer)
    message = Message.objects.get(external_id="m_parcel")
    make_attachment(message)
    Note.objects.create(
        organization=world.org, conversation=message.conversation, text="Zeynep called twice"
    )
    Contact.objects.create(
        organization=world.other_org, channel=elsewhere, external_id=META_USER, name="Same id"
    )
    Contact.objects.create(
        organization=world.other_org, channel=elsewhere, external_id="178000", name="Stays"
    )
    return page, whatsapp, elsewhere


PERSONAL = [CUSTOMER, META_USER, "Zeynep", "parcel", "zeynep@mail.example", "Same id"]


def test_meta_data_deletion_erases_everything_held_through_the_user(
    client, held, celery_eager, committed
):
    page, whatsapp, elsewhere = held
    assert all(columns_holding(needle) for needle in PERSONAL)  # the scan finds them first
    files_before = stored_files()
    photo = Message.objects.get(external_id="m_parcel").files.get()
    picture = Contact.objects.get(external_id=CUSTOMER).avatar
    customer_files = {picture.name, photo.file.name, photo.thumbnail.name}
    assert customer_files <= files_before

    with committed():
        response = client.post(
            reverse("meta_data_deletion"), {"signed_request": for_user(META_USER, SECRET)}
        )

    assert response.status_code == 200
    answer = response.json()
    data_request = DataRequest.objects.get()
    assert answer == {
        "url": f"https://padu.example/privacy/deletion/{data_request.confirmation_code}/",
        "confirmation_code": data_request.confirmation_code,
    }
    assert data_request.status == RequestStatus.COMPLETED
    assert data_request.meta_user_id == ""
    assert data_request.outcome == {
        "contacts": 2, "conversations": 1, "messages": 1, "attachments": 1, "pictures": 1,
        "notes": 1, "webhook_events": 2, "channels": 1,
    }  # fmt: skip
    for needle in PERSONAL:
        assert columns_holding(needle) == [], needle
    assert stored_files() == files_before - customer_files
    assert not Channel.objects.filter(pk=page.pk).exists()
    whatsapp.refresh_from_db()
    assert whatsapp.status == ChannelStatus.ACTIVE
    assert Message.objects.filter(external_id="wamid.kept").exists()
    assert Contact.objects.filter(channel=elsewhere, name="Stays").exists()
    assert WebhookEvent.objects.count() == 1
    assert list(
        AuditEvent.objects.filter(action__startswith="data_request.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "data_request.received",
        "data_request.verified",
        "data_request.in_progress",
        "data_request.completed",
    ]
    assert AuditEvent.objects.filter(action="channel.deleted", organization=page.organization)
    # The Page stopped first, and its organisation's owners and admins were told.
    assert AuditEvent.objects.filter(action="channel.disconnected", actor=None).count() == 1
    assert Notice.objects.filter(organization=page.organization).count() == 1
    assert any("asked that their data be deleted" in message.body for message in mail.outbox)


def _request(meta_user_id: str = META_USER, **options) -> DataRequest:
    return data_requests.meta_erasure_request(
        meta_user_id=meta_user_id,
        instagram_login=options.get("instagram_login", False),
        carry_out=lambda pk: None,
    )


def test_the_status_page_shows_the_progress_by_code(client, held):
    data_request = _request()
    url = reverse("privacy_deletion_status", args=[data_request.confirmation_code])

    waiting = client.get(url)
    data_requests.data_request_carry_out(request_id=data_request.pk)
    done = client.get(url)

    assert waiting.status_code == done.status_code == 200
    assert "Padu is deleting the data" in waiting.content.decode()
    assert "<strong>Completed</strong>" in done.content.decode()
    for page in (waiting, done):
        assert META_USER not in page.content.decode()
    assert client.get(reverse("privacy_deletion_status", args=["0" * 20])).status_code == 404


def test_meta_deauthorize_stops_the_users_channels_without_calling_meta(client, held):
    page, whatsapp, _elsewhere = held
    called = []
    graph_client.use_transport(httpx.MockTransport(lambda request: called.append(request)))

    response = client.post(
        reverse("meta_deauthorize"), {"signed_request": for_user(META_USER, SECRET)}
    )

    assert response.status_code == 200
    assert called == []
    page.refresh_from_db()
    assert (page.status, page.token_ciphertext) == (ChannelStatus.DISCONNECTED, "")
    assert AuditEvent.objects.filter(action="channel.disconnected", actor=None).count() == 1
    notice = Notice.objects.get(organization=page.organization)
    assert "removed Padu's app" in notice.message
    # Its data stays for the retention's grace period: reconnecting keeps it all.
    assert Message.objects.filter(external_id="m_parcel").exists()
    assert not DataRequest.objects.exists()
    whatsapp.refresh_from_db()
    assert whatsapp.status == ChannelStatus.ACTIVE


def test_a_request_signed_by_the_instagram_app_names_only_instagram_login_channels(
    client, world, held, committed
):
    page, _whatsapp, _elsewhere = held
    instagram = make_channel(
        world.org, kind=ChannelKind.INSTAGRAM, external_id="17841400000000042",
        meta_user_id=META_USER, uses_instagram_login=True,
    )  # fmt: skip

    with committed():
        client.post(
            reverse("meta_deauthorize"), {"signed_request": for_user(META_USER, INSTAGRAM_SECRET)}
        )

    instagram.refresh_from_db()
    page.refresh_from_db()
    assert instagram.status == ChannelStatus.DISCONNECTED
    assert page.status == ChannelStatus.ACTIVE


@pytest.mark.parametrize("callback", ["meta_data_deletion", "meta_deauthorize"])
@pytest.mark.parametrize(
    "form",
    [
        {},
        {"signed_request": ""},
        {"signed_request": for_user(META_USER, "not-the-app-secret")},
        {"signed_request": "garbage"},
    ],
)
def test_a_bad_or_missing_signature_is_403_and_changes_nothing(client, held, callback, form):
    page, _whatsapp, _elsewhere = held

    response = client.post(reverse(callback), form)

    assert response.status_code == 403
    assert not DataRequest.objects.exists()
    page.refresh_from_db()
    assert page.status == ChannelStatus.ACTIVE


@pytest.mark.parametrize("callback", ["meta_data_deletion", "meta_deauthorize"])
def test_the_callbacks_take_only_posts(client, db, callback):
    assert client.get(reverse(callback)).status_code == 405


def test_erasure_waits_for_deliveries_still_being_recorded(held):
    pending = WebhookEvent.objects.create(
        body=p.encode(
            p.messaging("page", p.PAGE_ID, p.customer_message(p.PAGE_ID, CUSTOMER, "m_late"))
        )
    )
    data_request = _request()

    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "waiting"
    data_request.refresh_from_db()
    assert (data_request.status, data_request.claimed_at) == (RequestStatus.IN_PROGRESS, None)
    assert data_requests.data_requests_to_carry_out() == [data_request.pk]  # the next sweep
    assert Contact.objects.filter(external_id=CUSTOMER).exists()

    webhook_events_process(event_ids=[pending.pk])
    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "completed"
    assert not Contact.objects.filter(external_id=CUSTOMER).exists()
    assert not Message.objects.filter(external_id="m_late").exists()


def test_a_request_carried_out_once_is_not_carried_out_again(held):
    data_request = _request()
    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "completed"
    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "skipped"
    assert data_requests.data_requests_to_carry_out() == []


def test_a_failure_keeps_what_was_erased_says_only_its_kind_and_is_tried_again_later(
    held, monkeypatch, caplog
):
    data_request = _request()

    def breaks(**kwargs):
        raise RuntimeError(f"could not delete the Page of Zeynep ({CUSTOMER})")

    monkeypatch.setattr(data_requests, "channel_delete", breaks)
    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "failed"

    data_request.refresh_from_db()
    assert (data_request.status, data_request.reason) == ("failed", "RuntimeError")
    assert data_request.outcome["messages"] == 1  # the batches before the failure stay done
    assert not Contact.objects.filter(external_id=CUSTOMER).exists()
    assert "RuntimeError" in caplog.text
    assert CUSTOMER not in caplog.text
    assert "Zeynep" not in caplog.text
    assert AuditEvent.objects.filter(action="data_request.failed").count() == 1
    assert data_requests.data_requests_to_carry_out() == []  # not before an hour

    monkeypatch.undo()
    DataRequest.objects.filter(pk=data_request.pk).update(
        claimed_at=data_request.claimed_at - timedelta(hours=2)
    )
    assert data_requests.data_request_carry_out(request_id=data_request.pk) == "completed"
    data_request.refresh_from_db()
    assert (data_request.outcome["messages"], data_request.outcome["channels"]) == (1, 1)


def test_the_sweeper_takes_up_a_request_whose_worker_was_cut_off(held, celery_eager):
    cut_off, running = _request(), _request(meta_user_id="9900000000000099")
    DataRequest.objects.filter(pk=cut_off.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=40)
    )
    DataRequest.objects.filter(pk=running.pk).update(claimed_at=timezone.now())

    assert tasks.data_requests_sweep.delay().get() == 1

    assert DataRequest.objects.get(pk=cut_off.pk).status == RequestStatus.COMPLETED
    assert DataRequest.objects.get(pk=running.pk).status == RequestStatus.IN_PROGRESS


@pytest.mark.django_db(transaction=True)
def test_the_simulators_callback_command_is_answered_by_a_running_padu(live_server):
    channel = make_channel(
        Organization.objects.create(name="Demo", slug="demo"),
        kind=ChannelKind.MESSENGER,
        external_id=p.PAGE_ID,
        meta_user_id=META_USER,
    )
    out = io.StringIO()

    call_command(
        "meta_callback", "deauthorize", "--meta-user-id", META_USER, "--url", live_server.url,
        stdout=out,
    )  # fmt: skip
    call_command(
        "meta_callback", "data-deletion", "--meta-user-id", META_USER, "--url", live_server.url,
        stdout=out,
    )  # fmt: skip

    channel.refresh_from_db()
    assert channel.status == "disconnected"
    answer = json.loads(out.getvalue().splitlines()[-1])
    assert answer["url"] == f"https://padu.example/privacy/deletion/{answer['confirmation_code']}/"


def test_the_callback_command_needs_the_app_secret(settings):
    settings.META_APP_SECRET = ""

    with pytest.raises(CommandError, match="META_APP_SECRET is not set"):
        call_command("meta_callback", "deauthorize", "--meta-user-id", META_USER)

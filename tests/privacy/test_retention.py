"""Retention: owners choose how long conversations are kept; the nightly job deletes what
is older (files included), in batches, in its own organisation only, and finishes a run
that was cut off; disconnected channels' data goes after the grace period; Meta's raw
deliveries after a week and audit events after 90 days."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Role
from channels_meta.models import Channel, ChannelKind, ChannelStatus, WebhookEvent
from inbox.models import Contact, Conversation, ConversationWord, Message, Note, OrderRecord
from inbox.services import erasure
from privacy import tasks
from privacy.models import (
    AccessLogEntry,
    DataRequest,
    RequestKind,
    RequestSource,
    RequestStatus,
    RetentionPolicy,
)
from privacy.services.retention import organization_retention_enforce, platform_retention_enforce
from tests.channels_meta.factories import make_channel
from tests.conftest import make_member
from tests.inbox.factories import give_avatar, make_attachment, make_conversation, make_message
from tests.privacy.scan import stored_files

NOW = timezone.now()


def _aged(channel: Channel, days: int, *, messages: int = 3, name: str = "Old Customer"):
    """A conversation whose last message was `days` ago, with a photo, a note, a picture."""
    at = NOW - timedelta(days=days)
    conversation = make_conversation(channel, name=name, last_inbound_at=at)
    for number in range(messages):
        make_message(conversation, text=f"{name} wrote {number}", at=at)
    make_attachment(conversation.messages.first())
    give_avatar(conversation.contact)
    Note.objects.create(
        organization_id=channel.organization_id, conversation=conversation, text="A note"
    )
    return conversation


@pytest.fixture
def whatsapp(world):
    return make_channel(world.org, kind=ChannelKind.WHATSAPP, external_id="1065403522")


@pytest.fixture
def thirty_days(world):
    return RetentionPolicy.objects.create(organization=world.org, conversation_days=30)


def _files_of(conversation: Conversation) -> set[str]:
    names = {conversation.contact.avatar.name}
    for message in conversation.messages.all():
        for attachment in message.files.all():
            names |= {attachment.file.name, attachment.thumbnail.name}
    return names


def test_conversations_past_the_limit_go_with_everything_they_hold(
    world, whatsapp, thirty_days, committed
):
    old = _aged(whatsapp, 40)
    recent = _aged(whatsapp, 10, name="Recent Customer")
    elsewhere = _aged(make_channel(world.other_org, external_id="2065403522"), 400)
    old_files = _files_of(old)
    files_before = stored_files()
    # PostgreSQL keeps the words for search; the embedded SQLite keeps none.
    assert ConversationWord.objects.filter(conversation=old).exists() == (
        connection.vendor == "postgresql"
    )

    with committed():
        erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert erased == {
        "conversations": 1, "messages": 3, "attachments": 1, "notes": 1, "contacts": 1,
        "pictures": 1,
    }  # fmt: skip
    assert not Conversation.objects.filter(pk=old.pk).exists()
    assert not Contact.objects.filter(pk=old.contact_id).exists()
    assert not ConversationWord.objects.filter(conversation_id=old.pk).exists()
    assert Message.objects.filter(conversation=recent).count() == 3
    assert Message.objects.filter(conversation=elsewhere).count() == 3  # no policy there
    assert stored_files() == files_before - old_files
    event = AuditEvent.objects.get(action="retention.purged", organization=world.org)
    assert event.target == (
        "attachments: 1, contacts: 1, conversations: 1, messages: 3, notes: 1, pictures: 1"
    )


def test_without_a_policy_conversations_are_kept(world, whatsapp):
    old = _aged(whatsapp, 4000)

    assert organization_retention_enforce(organization=world.org, now=NOW) == {}
    assert Message.objects.filter(conversation=old).count() == 3
    assert not AuditEvent.objects.filter(action="retention.purged").exists()


def test_a_customer_who_keeps_other_conversations_is_kept(world, whatsapp, thirty_days):
    old = _aged(whatsapp, 40)
    Conversation.objects.create(
        organization=world.org, channel=whatsapp, contact=old.contact, kind="comment",
        comment_id="1790000001", last_message_at=NOW,
    )  # fmt: skip

    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert erased["conversations"] == 1
    assert "contacts" not in erased
    assert Contact.objects.filter(pk=old.contact_id).exists()


def test_the_purge_works_in_small_batches(world, whatsapp, thirty_days, monkeypatch):
    monkeypatch.setattr(erasure, "MESSAGES_AT_ONCE", 2)
    monkeypatch.setattr(erasure, "CONVERSATIONS_AT_ONCE", 1)
    for number in range(3):
        _aged(whatsapp, 40 + number, messages=5, name=f"Customer {number}")

    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert (erased["conversations"], erased["messages"]) == (3, 15)
    assert not Message.objects.exists()


def test_a_purge_cut_off_midway_leaves_whole_batches_and_the_next_run_finishes(
    world, whatsapp, thirty_days, monkeypatch
):
    monkeypatch.setattr(erasure, "MESSAGES_AT_ONCE", 2)
    old = _aged(whatsapp, 40, messages=6)
    calls = []
    real = erasure._messages_delete

    def dies_on_the_second_batch(conversations):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit("the worker was stopped")
        return real(conversations)

    monkeypatch.setattr(erasure, "_messages_delete", dies_on_the_second_batch)
    with pytest.raises(SystemExit):
        organization_retention_enforce(organization=world.org, now=NOW)
    assert Message.objects.filter(conversation=old).count() == 4  # the first batch went

    monkeypatch.setattr(erasure, "_messages_delete", real)
    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert (erased["conversations"], erased["messages"]) == (1, 4)
    assert not Conversation.objects.filter(pk=old.pk).exists()


def test_a_conversation_the_customer_writes_in_during_the_purge_is_kept(
    world, whatsapp, thirty_days, monkeypatch
):
    monkeypatch.setattr(erasure, "MESSAGES_AT_ONCE", 1)
    old = _aged(whatsapp, 40, messages=3)
    real = erasure._messages_delete

    def customer_writes_after_the_first_batch(conversations):
        if Message.objects.filter(conversation=old).count() == 2:
            make_message(old, text="Still there?", at=NOW)
            Conversation.objects.filter(pk=old.pk).update(last_message_at=NOW)
        return real(conversations)

    monkeypatch.setattr(erasure, "_messages_delete", customer_writes_after_the_first_batch)
    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert erased["messages"] == 1
    assert "conversations" not in erased
    kept = Message.objects.filter(conversation=old)
    assert kept.count() == 3
    assert kept.filter(text="Still there?").exists()


def _order(channel: Channel, days: int, contact: Contact | None = None) -> OrderRecord:
    return OrderRecord.objects.create(
        organization_id=channel.organization_id, channel=channel, contact=contact,
        customer_id="905321234567", customer_name="Ordering Customer",
        message_external_id=f"wamid.order{days}", ordered_at=NOW - timedelta(days=days),
        items=[{"product_retailer_id": "mug-blue", "quantity": 2}],
    )  # fmt: skip


def test_order_records_outlive_their_conversation_and_lose_their_customer_after_the_years(
    world, whatsapp, thirty_days
):
    old = _aged(whatsapp, 40)
    kept = _order(whatsapp, 40, contact=old.contact)
    ancient = _order(whatsapp, 11 * 365)
    elsewhere = _order(make_channel(world.other_org, external_id="2065403522"), 11 * 365)

    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert (erased["conversations"], erased["order_records_anonymized"]) == (1, 1)
    kept.refresh_from_db()
    assert kept.contact is None  # the contact went with the conversation
    assert (kept.customer_name, kept.anonymized_at) == ("Ordering Customer", None)
    ancient.refresh_from_db()
    assert (ancient.customer_id, ancient.customer_name, ancient.message_external_id) == ("", "", "")
    assert ancient.anonymized_at == NOW
    assert ancient.items == [{"product_retailer_id": "mug-blue", "quantity": 2}]
    elsewhere.refresh_from_db()
    assert elsewhere.anonymized_at is None  # another organisation's


def test_order_records_are_kept_as_long_as_the_owners_choose(world, whatsapp):
    RetentionPolicy.objects.create(organization=world.org, order_record_years=12)
    order = _order(whatsapp, 11 * 365)

    assert "order_records_anonymized" not in organization_retention_enforce(
        organization=world.org, now=NOW
    )
    order.refresh_from_db()
    assert order.anonymized_at is None


def test_a_disconnected_channels_data_goes_after_the_grace_period(world, whatsapp):
    gone = make_channel(world.org, kind=ChannelKind.MESSENGER, external_id="106700000000001")
    recent = make_channel(world.org, kind=ChannelKind.INSTAGRAM, external_id="17841400000001")
    for channel, days in ((gone, 31), (recent, 5)):
        _aged(channel, 1)
        channel.status = ChannelStatus.DISCONNECTED
        channel.disconnected_at = NOW - timedelta(days=days)
        channel.save()
    _aged(whatsapp, 1)

    erased = organization_retention_enforce(organization=world.org, now=NOW)

    assert erased["channels"] == 1
    assert erased["conversations"] == 1
    assert not Channel.objects.filter(pk=gone.pk).exists()
    assert Conversation.objects.filter(channel=recent).exists()
    assert Conversation.objects.filter(channel=whatsapp).exists()


def test_meta_deliveries_and_unconfirmed_requests_go_after_a_week_audit_events_after_ninety_days(
    world,
):
    def delivery(days: int, status: str) -> WebhookEvent:
        return WebhookEvent.objects.create(
            body=b"{}", status=status, received_at=NOW - timedelta(days=days)
        )

    old = [delivery(8, status) for status in ("processed", "ignored", "failed", "unroutable")]
    kept = [delivery(6, "processed"), delivery(8, "pending")]
    old_audit = AuditEvent.objects.create(action="user.signed_in", created_at=NOW - timedelta(91))
    kept_audit = AuditEvent.objects.create(action="user.signed_in", created_at=NOW - timedelta(89))
    for days in (91, 92, 89):
        AccessLogEntry.objects.create(
            user=world.agent.user,
            method="GET",
            path="/",
            status=200,
            created_at=NOW - timedelta(days),
        )

    def data_request(days: int, status: str) -> DataRequest:
        return DataRequest.objects.create(
            organization=world.org,
            kind=RequestKind.ERASURE,
            source=RequestSource.PUBLIC_FORM,
            status=status,
            received_at=NOW - timedelta(days=days),
        )

    unconfirmed = data_request(8, RequestStatus.RECEIVED)
    kept_requests = [data_request(6, RequestStatus.RECEIVED), data_request(60, "completed")]
    for key, expires in (("expired", NOW - timedelta(seconds=1)), ("live", NOW + timedelta(1))):
        Session.objects.create(session_key=key, session_data="", expire_date=expires)

    erased = platform_retention_enforce(now=NOW)

    assert erased == {
        "webhook events": 4,
        "audit events": 1,
        "access log entries": 2,
        "unconfirmed data requests": 1,
        "export files": 0,
        "expired sessions": 1,
        "forwarded events": 0,
    }
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert not DataRequest.objects.filter(pk=unconfirmed.pk).exists()
    assert DataRequest.objects.filter(pk__in=[r.pk for r in kept_requests]).count() == 2
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert not WebhookEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert not AuditEvent.objects.filter(pk=old_audit.pk).exists()
    assert AuditEvent.objects.filter(pk=kept_audit.pk).exists()
    assert list(AccessLogEntry.objects.values_list("created_at", flat=True)) == [
        NOW - timedelta(89)
    ]
    run = AuditEvent.objects.get(action="retention.purged")
    assert (run.organization, run.target) == (
        None,
        "access log entries: 2, audit events: 1, expired sessions: 1, export files: 0, "
        "forwarded events: 0, "
        "unconfirmed data requests: 1, webhook events: 4",
    )


def test_the_nightly_task_enforces_every_organisations_policy(
    world, whatsapp, thirty_days, celery_eager
):
    old = _aged(whatsapp, 40)
    RetentionPolicy.objects.create(organization=world.other_org, conversation_days=7)
    other_old = _aged(make_channel(world.other_org, external_id="2065403522"), 8)

    tasks.retention_enforce.delay()

    assert not Conversation.objects.filter(pk__in=[old.pk, other_old.pk]).exists()


def test_owners_choose_the_policy(client, world):
    client.force_login(world.owner.user)
    url = reverse("retention_settings", args=[world.org.slug])

    response = client.post(
        url,
        {"conversation_days": "30", "disconnected_channel_days": "7", "order_record_years": "5"},
    )

    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(organization=world.org)
    assert (policy.conversation_days, policy.disconnected_channel_days) == (30, 7)
    assert policy.order_record_years == 5
    assert AuditEvent.objects.filter(
        action="organization.retention_changed", actor=world.owner.user
    ).exists()
    assert "Deleted" not in client.get(url).content.decode()  # owners get the form


YEARS = {"order_record_years": "10"}


@pytest.mark.parametrize(
    "form",
    [
        {"conversation_days": "0", "disconnected_channel_days": "30", **YEARS},
        {"conversation_days": "4000", "disconnected_channel_days": "30", **YEARS},
        {"conversation_days": "", "disconnected_channel_days": "31", **YEARS},
        {"conversation_days": "ten", "disconnected_channel_days": "30", **YEARS},
        {"conversation_days": "", "disconnected_channel_days": "30", "order_record_years": "0"},
        {"conversation_days": "", "disconnected_channel_days": "30", "order_record_years": "31"},
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(client, world, form):
    client.force_login(world.owner.user)

    response = client.post(reverse("retention_settings", args=[world.org.slug]), form)

    assert response.status_code == 200
    assert len(response.context["form"].errors) == 1
    assert not RetentionPolicy.objects.exists()


def test_admins_see_the_policy_and_cannot_change_it(client, world):
    admin = make_member(world.org, "admin@acme.example", Role.ADMIN)
    RetentionPolicy.objects.create(organization=world.org, conversation_days=30)
    client.force_login(admin.user)
    url = reverse("retention_settings", args=[world.org.slug])

    page = client.get(url).content.decode()
    refused = client.post(url, {"conversation_days": "", "disconnected_channel_days": "30"})

    assert "Deleted 30 days after their last message" in page
    assert refused.status_code == 403
    assert RetentionPolicy.objects.get().conversation_days == 30

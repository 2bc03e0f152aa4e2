"""A business's customers asking about their data: the public page, the link that
confirms the request, the owners' and admins' queue where it is matched to contacts and
approved or rejected, what each kind does to the contacts, the e-mails the person and
the managers get, and requests staff record from a contact's panel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Notice, Role
from channels_meta.models import WebhookEvent
from inbox.models import Contact, Conversation, Message, OrderRecord
from privacy import tasks
from privacy.models import DataRequest, RequestKind, RequestSource, RequestStatus
from privacy.services.customer_requests import CONFIRMATION_SALT
from tests.channels_meta import payloads as p
from tests.conftest import make_member
from tests.privacy.conftest import delivery
from tests.privacy.scan import columns_holding, stored_files

ASKER = "zeynep.k@mail.example"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://padu.example"


def _ask(client, kind=RequestKind.ERASURE, identifier="@zeynep.k", email=ASKER, slug="acme"):
    return client.post(
        reverse("privacy_request", args=[slug]),
        {"kind": kind, "identifier": identifier, "requester_email": email, "details": "Thanks"},
    )


def _confirmation_link() -> str:
    return re.search(r"https://padu\.example(/\S+)", mail.outbox[-1].body).group(1)


def _verified(world, kind=RequestKind.ERASURE, **fields) -> DataRequest:
    fields = {
        "subject_identifier": "@zeynep.k",
        "requester_email": ASKER,
        "status": RequestStatus.VERIFIED,
        **fields,
    }
    return DataRequest.objects.create(
        organization=world.org,
        kind=kind,
        source=RequestSource.PUBLIC_FORM,
        verified_at=timezone.now(),
        **fields,
    )


def test_the_public_page_asks_and_e_mails_a_link_nobody_at_the_business_sees_a_request_before(
    client, world, committed
):
    assert client.get(reverse("privacy_request", args=["acme"])).status_code == 200
    assert client.get(reverse("privacy_request", args=["nobody"])).status_code == 404

    with committed():
        response = _ask(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("privacy_request_sent", args=["acme"])
    data_request = DataRequest.objects.get()
    assert (data_request.organization, data_request.status, data_request.source) == (
        world.org,
        RequestStatus.RECEIVED,
        RequestSource.PUBLIC_FORM,
    )
    assert (data_request.subject_identifier, data_request.requester_email) == ("@zeynep.k", ASKER)
    assert data_request.due_at - data_request.received_at == timedelta(days=30)
    assert [message.to for message in mail.outbox] == [[ASKER]]
    assert "Acme Coffee" in mail.outbox[0].subject
    assert "/privacy/acme/request/confirm/" in mail.outbox[0].body
    assert not Notice.objects.exists()
    client.force_login(world.owner.user)
    assert "@zeynep.k" not in client.get(reverse("data_requests", args=["acme"])).text


def test_following_the_link_and_pressing_confirm_verifies_and_tells_the_managers(
    client, world, committed
):
    make_member(world.org, "admin@acme.example", Role.ADMIN)
    with committed():
        _ask(client)
    link = _confirmation_link()

    page = client.get(link)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED
    with committed():
        response = client.post(link)

    data_request = DataRequest.objects.get()
    assert data_request.status == RequestStatus.VERIFIED
    assert data_request.verified_at is not None
    status_url = reverse("privacy_request_status", args=[data_request.confirmation_code])
    assert response["Location"] == status_url
    status_page = client.get(status_url)
    assert "Acme Coffee will answer by" in status_page.text
    assert "@zeynep.k" not in status_page.text
    notice = Notice.objects.get(organization=world.org)
    assert notice.link == reverse("data_request", args=["acme", data_request.pk])
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["admin@acme.example", "owner@acme.example"]
    assert list(
        AuditEvent.objects.filter(organization=world.org)
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["data_request.received", "data_request.verified"]
    # A second press changes nothing and tells no one again.
    with committed():
        assert client.post(link).status_code == 302
    assert Notice.objects.count() == 1


def test_a_confirmation_link_expired_tampered_or_for_another_organisation_verifies_nothing(
    client, world
):
    _ask(client)
    data_request = DataRequest.objects.get()

    class ThreeDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(timezone.now().timestamp()) - 3 * 24 * 3600 - 60)

    expired = ThreeDaysAgo(salt=CONFIRMATION_SALT).sign_object(data_request.pk)
    good = signing.dumps(data_request.pk, salt=CONFIRMATION_SALT)
    for slug, token in (("acme", expired), ("acme", good[:-2] + "xx"), ("other", good)):
        url = reverse("privacy_request_confirm", args=[slug, token])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert DataRequest.objects.get().status == RequestStatus.RECEIVED


def test_a_bad_form_says_what_is_wrong_and_records_nothing(client, world):
    response = _ask(client, email="not an address", identifier="")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert "This field is required." in response.text
    assert not DataRequest.objects.exists()
    assert not mail.outbox


def test_the_public_page_is_rate_limited_per_address_and_per_client(client, world, settings):
    settings.DATA_REQUESTS_PER_ADDRESS_PER_DAY = 2
    settings.DATA_REQUESTS_PER_IP_PER_DAY = 4

    codes = [_ask(client).status_code for _ in range(3)]
    codes.append(_ask(client, email="someone.else@mail.example").status_code)
    codes.append(_ask(client, email="third@mail.example").status_code)

    assert codes == [302, 302, 429, 302, 429]
    assert DataRequest.objects.count() == 3


def test_the_queue_shows_confirmed_requests_soonest_due_first_with_overdue_warnings(
    client, world, django_assert_num_queries
):
    late = _verified(world, due_at=timezone.now() - timedelta(days=2))
    soon = _verified(world, kind=RequestKind.OBJECTION, subject_identifier="+90 555 010 2030")
    DataRequest.objects.create(
        organization=world.org,
        kind="erasure",
        source="public_form",
        subject_identifier="unconfirmed",
    )
    DataRequest.objects.create(
        organization=world.other_org, kind="erasure", source="staff", status="verified",
        subject_identifier="theirs",
    )  # fmt: skip
    answered = _verified(world, subject_identifier="done", status=RequestStatus.REJECTED)
    client.force_login(world.owner.user)
    client.get(reverse("organization_home", args=["acme"]))  # the session knows the organisation

    with django_assert_num_queries(7):  # the same for any number of rows, the access log's too
        page = client.get(reverse("data_requests", args=["acme"])).text

    assert page.index(f"#{late.pk}") < page.index(f"#{soon.pk}")
    assert "Overdue by 2" in page
    assert "+90 555 010 2030" in page
    for elsewhere in ("unconfirmed", "theirs", "done"):
        assert elsewhere not in page
    assert "https://testserver/privacy/acme/request/" in page.replace("http://", "https://")
    answered_page = client.get(reverse("data_requests", args=["acme"]) + "?show=answered").text
    assert f"#{answered.pk}" in answered_page
    assert f"#{late.pk}" not in answered_page
    for _ in range(5):
        _verified(world)
    with django_assert_num_queries(7):
        client.get(reverse("data_requests", args=["acme"]))


def test_an_approved_erasure_erases_the_matched_contact_everywhere_and_tells_the_person(
    client, world, customers, celery_eager, committed
):
    zeynep, _ali, other = customers
    data_request = _verified(world)
    client.force_login(world.owner.user)
    detail = client.get(reverse("data_request", args=["acme", data_request.pk])).text
    assert "Zeynep K (@zeynep.k)" in detail  # found by her handle
    assert "Ali Veli" not in detail
    files_before = stored_files()
    assert columns_holding("5521")
    assert columns_holding("Likes the blue mug")
    order = OrderRecord.objects.create(
        organization=world.org, channel=zeynep.channel, contact=zeynep,
        customer_id=zeynep.external_id, customer_name=zeynep.name,
        message_external_id="aWdfZAG1faWQ-order", ordered_at=timezone.now(),
        items=[{"product_retailer_id": "mug-blue", "quantity": 1}],
    )  # fmt: skip

    with committed():
        response = client.post(
            reverse("data_request_approve", args=["acme", data_request.pk]),
            {"contacts": [zeynep.pk]},
        )

    assert response.status_code == 302
    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED
    assert data_request.handled_by == world.owner.user
    assert data_request.outcome == {
        "contacts": 1, "conversations": 1, "messages": 1, "attachments": 1, "pictures": 1,
        "notes": 1, "webhook_events": 1, "order_records_anonymized": 1,
    }  # fmt: skip
    for needle in ("5521", "Likes the blue mug", "zk@shop.example", "aWdfZAG1faWQ-order"):
        assert columns_holding(needle) == [], needle
    order.refresh_from_db()  # what she ordered stays for the books, not who she is
    assert order.items == [{"product_retailer_id": "mug-blue", "quantity": 1}]
    assert (order.contact, order.customer_name) == (None, "")
    # Her id is also a customer of another organisation's, whose data stays.
    assert sorted(columns_holding("17800000000000042")) == [
        "channels_meta.WebhookEvent.body",
        "inbox.Contact.external_id",
    ]
    assert [bytes(event.body) for event in WebhookEvent.objects.all()] == [
        p.encode(delivery("1784199", "17800000000000042"))
    ]
    assert not Contact.objects.filter(pk=zeynep.pk).exists()
    assert len(stored_files()) == len(files_before) - 3  # the photo, its thumbnail, the picture
    assert Message.objects.filter(text="Ali keeps this").exists()
    assert Contact.objects.filter(pk=other.pk).exists()  # another organisation's
    assert (data_request.subject_identifier, data_request.details) == ("", "")
    outcome = mail.outbox[-1]
    assert outcome.to == [ASKER]
    assert "has carried out your data request (Erasure)" in outcome.body
    status = client.get(reverse("privacy_request_status", args=[data_request.confirmation_code]))
    assert "Your messages, files, profile and the notes about you have been deleted." in (
        status.text
    )


def test_a_restriction_stops_replies_until_an_admin_lifts_it_from_the_contact_panel(
    client, world, customers, committed
):
    zeynep, ali, _other = customers
    data_request = _verified(world, kind=RequestKind.RESTRICTION)
    conversation = Conversation.objects.get(contact=zeynep)
    client.force_login(world.owner.user)

    with committed():
        client.post(
            reverse("data_request_approve", args=["acme", data_request.pk]),
            {"contacts": [zeynep.pk]},
        )

    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED
    assert data_request.outcome == {"contacts_restricted": 1}
    zeynep.refresh_from_db()
    assert zeynep.processing_restricted_at is not None
    assert Contact.objects.get(pk=ali.pk).processing_restricted_at is None
    page = client.get(reverse("conversation", args=["acme", conversation.pk])).text
    assert "Restricted since" in page
    assert "Lift the restriction" in page
    client.force_login(world.agent.user)
    assert (
        "Lift the restriction"
        not in client.get(reverse("conversation", args=["acme", conversation.pk])).text
    )
    lift = reverse("contact_restriction_lift", args=["acme", zeynep.pk])
    assert client.post(lift).status_code == 403

    client.force_login(world.owner.user)
    back = reverse("conversation", args=["acme", conversation.pk])
    response = client.post(lift, {"next": back})

    assert response["Location"] == back
    zeynep.refresh_from_db()
    assert zeynep.processing_restricted_at is None
    assert AuditEvent.objects.filter(
        action="contact.restriction_lifted", target=f"contact #{zeynep.pk}"
    ).exists()
    offsite = client.post(lift, {"next": "https://evil.example/"})
    assert offsite["Location"] == reverse("inbox", args=["acme"])


def test_an_objection_records_a_marketing_opt_out(client, world, customers):
    zeynep, ali, _other = customers
    data_request = _verified(world, kind=RequestKind.OBJECTION)
    client.force_login(world.owner.user)

    client.post(
        reverse("data_request_approve", args=["acme", data_request.pk]), {"contacts": [zeynep.pk]}
    )

    assert Contact.objects.get(pk=zeynep.pk).marketing_opt_out is True
    assert Contact.objects.get(pk=ali.pk).marketing_opt_out is False
    assert DataRequest.objects.get(pk=data_request.pk).outcome == {"contacts_opted_out": 1}


def test_another_organisations_contact_cannot_be_matched(client, world, customers):
    _zeynep, _ali, other = customers
    data_request = _verified(world, kind=RequestKind.RESTRICTION)
    client.force_login(world.owner.user)

    response = client.post(
        reverse("data_request_approve", args=["acme", data_request.pk]), {"contacts": [other.pk]}
    )

    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.VERIFIED
    assert Contact.objects.get(pk=other.pk).processing_restricted_at is None


def test_approving_with_no_contact_tells_the_person_nothing_is_kept(
    client, world, celery_eager, committed
):
    data_request = _verified(world)
    client.force_login(world.owner.user)

    with committed():
        client.post(reverse("data_request_approve", args=["acme", data_request.pk]), {})

    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED
    assert data_request.outcome == {}
    assert mail.outbox[-1].to == [ASKER]
    assert "Acme Coffee holds no data about you" in mail.outbox[-1].body
    status = client.get(reverse("privacy_request_status", args=[data_request.confirmation_code]))
    assert "Acme Coffee holds no data about you" in status.text
    assert "have been deleted" not in status.text


def test_a_rejection_needs_a_reason_which_the_person_is_told_and_is_answered_once(
    client, world, committed
):
    data_request = _verified(world)
    client.force_login(world.owner.user)
    url = reverse("data_request_reject", args=["acme", data_request.pk])

    assert client.post(url, {"reason": ""}).status_code == 400
    with committed():
        client.post(url, {"reason": "We could not tell that the account is yours."})

    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.REJECTED
    assert data_request.completed_at is not None
    assert "We could not tell that the account is yours." in mail.outbox[-1].body
    status = client.get(reverse("privacy_request_status", args=[data_request.confirmation_code]))
    assert "We could not tell that the account is yours." in status.text
    again = client.post(
        reverse("data_request_approve", args=["acme", data_request.pk]), follow=True
    )
    assert "This request has already been answered." in again.text
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.REJECTED


def test_any_member_records_a_request_from_the_contact_panel_for_the_managers(
    client, world, customers, committed
):
    zeynep, _ali, _other = customers
    conversation = Conversation.objects.get(contact=zeynep)
    client.force_login(world.agent.user)
    page = client.get(reverse("conversation", args=["acme", conversation.pk])).text
    form_url = reverse("contact_data_request", args=["acme", zeynep.pk])
    assert form_url in page
    back = reverse("conversation", args=["acme", conversation.pk])

    assert client.get(form_url + f"?next={back}").status_code == 200
    with committed():
        response = client.post(
            form_url, {"kind": RequestKind.RESTRICTION, "requester_email": "", "next": back}
        )

    assert response["Location"] == back
    data_request = DataRequest.objects.get()
    assert (data_request.source, data_request.status) == (
        RequestSource.STAFF,
        RequestStatus.VERIFIED,
    )
    assert list(data_request.contacts.all()) == [zeynep]
    assert data_request.subject_identifier == "@zeynep.k"
    notice = Notice.objects.get()
    assert "Zeynep" not in notice.message
    assert [m.to for m in mail.outbox] == [["owner@acme.example"]]
    assert AuditEvent.objects.filter(
        action="data_request.received", actor=world.agent.user
    ).exists()


def test_overdue_requests_e_mail_their_organisations_managers_every_day(
    world, celery_eager, committed
):
    _verified(world, due_at=timezone.now() - timedelta(days=1))
    _verified(world, due_at=timezone.now() - timedelta(hours=1), status=RequestStatus.FAILED)
    _verified(world, due_at=timezone.now() + timedelta(days=1))
    _verified(world, due_at=timezone.now() - timedelta(days=3), status=RequestStatus.COMPLETED)

    with committed():
        reminded = tasks.data_requests_overdue_remind.delay().get()

    assert reminded == 1
    assert [m.to for m in mail.outbox] == [["owner@acme.example"]]
    assert "2 data requests in Acme Coffee are past their due date" in mail.outbox[0].body
    assert "/o/acme/privacy/requests/" in mail.outbox[0].body


def test_only_the_contacts_ticked_at_approval_are_carried_out(
    client, world, customers, celery_eager, committed
):
    zeynep, ali, _other = customers
    client.force_login(world.agent.user)
    client.post(
        reverse("contact_data_request", args=["acme", zeynep.pk]), {"kind": RequestKind.ERASURE}
    )
    data_request = DataRequest.objects.get()
    client.force_login(world.owner.user)
    detail = client.get(reverse("data_request", args=["acme", data_request.pk])).text
    assert re.search(rf'value="{zeynep.pk}"[^>]*checked', detail)  # the agent's choice

    with committed():
        client.post(
            reverse("data_request_approve", args=["acme", data_request.pk]), {"contacts": [ali.pk]}
        )

    assert Contact.objects.filter(pk=zeynep.pk).exists()
    assert not Contact.objects.filter(pk=ali.pk).exists()
    assert DataRequest.objects.get(pk=data_request.pk).outcome["contacts"] == 1


def test_odd_input_is_refused_cleanly(client, world):
    data_request = _verified(world)
    client.force_login(world.owner.user)

    assert client.get("/privacy/requests/%00/").status_code == 404
    assert client.get("/privacy/deletion/%00/").status_code == 404
    detail = reverse("data_request", args=["acme", data_request.pk])
    assert client.get(detail + "?q=%00").status_code == 200
    long_address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".com"
    response = _ask(client, email=long_address)
    assert response.status_code == 200
    assert "at most 254 characters" in response.text


def test_an_address_gets_a_few_requests_a_day_across_every_organisation(client, world, settings):
    settings.DATA_REQUESTS_PER_ADDRESS_EVERYWHERE_PER_DAY = 2

    codes = [_ask(client, slug=slug).status_code for slug in ("acme", "other", "other")]

    assert codes == [302, 302, 429]

"""Deleting one's own account and deleting an organisation, end to end: what is asked
first, what goes, what stays (and no longer names anyone), Meta released, nothing of
another organisation touched."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, Notice, Organization, Role, User
from accounts.services import audit_record
from channels_meta.graph import client as graph_client
from channels_meta.models import Channel
from channels_meta.services.channels import channel_disconnect
from inbox.models import Contact, Conversation, Direction, Message, Note
from privacy import exports, tasks
from privacy.models import DataRequest, Export, ExportStatus, RequestSource, RequestStatus
from privacy.services import deletion, export_jobs
from tests.channels_meta.factories import make_channel
from tests.channels_meta.test_connect import connect
from tests.conftest import PASSWORD
from tests.inbox.factories import give_avatar, make_attachment, make_conversation, make_message
from tests.privacy.scan import columns_holding, stored_files

pytestmark = pytest.mark.django_db

AGENT_NAME = "Gülizar Karaağaçlı"


@pytest.fixture
def agent(world):
    """The agent, with a password, a reply sent, a note written, an export kept and
    their address in the organisation's audit log and notices."""
    user = world.agent.user
    user.full_name = AGENT_NAME
    user.set_password(PASSWORD)
    user.save()
    channel = make_channel(world.org)
    conversation = make_conversation(channel)
    make_message(conversation, direction=Direction.OUTBOUND, author=user, send_mode="response",
                 text="Yes, open until six")  # fmt: skip
    Note.objects.create(
        organization=world.org, conversation=conversation, author=user, text="Called back"
    )
    export = Export.objects.create(requested_by=user, status=ExportStatus.READY)
    export.file.save("padu-export.zip", ContentFile(b"zip"), save=True)
    audit_record(action="member.added", organization=world.org, target=f"{user.email} (agent)")
    audit_record(action="user.signed_in", actor=user, target=user.email, ip="203.0.113.9")
    Notice.objects.create(organization=world.org, message=f"{user.email} asked for an export")
    Invitation.objects.create(
        organization=world.org, email=user.email.upper(), token_hash="a" * 64,
        expires_at=timezone.now(), accepted_by=user,
    )  # fmt: skip
    return user


def test_a_member_deletes_their_account_with_their_password(client, world, agent, committed):
    email, files_before = agent.email, stored_files()
    client.force_login(agent)
    assert "Delete my account" in client.get(reverse("account_delete")).text

    with committed():
        response = client.post(reverse("account_delete"), {"password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not User.objects.filter(pk=agent.pk).exists()
    assert client.get(reverse("profile")).status_code == 302  # signed out
    for needle in (email, AGENT_NAME):
        assert columns_holding(needle) == [], needle
    assert AuditEvent.objects.filter(target=f"account #{agent.pk} (agent)").exists()
    assert len(stored_files()) == len(files_before) - 1  # the export's file
    reply = Message.objects.get(text="Yes, open until six")
    assert reply.author is None
    assert reply.organization == world.org
    assert Note.objects.get(text="Called back").author is None
    assert Membership.objects.filter(organization=world.org).count() == 1
    record = DataRequest.objects.get(source=RequestSource.ACCOUNT)
    assert record.status == RequestStatus.COMPLETED
    assert record.outcome == {"memberships": 1, "exports": 1, "activity": 1, "access_log": 1,
                              "invitations": 1, "mentions": 2}  # fmt: skip
    assert AuditEvent.objects.filter(action="user.deleted", organization=None).exists()
    assert AuditEvent.objects.get(action="member.left", organization=world.org).target == (
        f"account #{agent.pk} (deleted)"
    )
    assert mail.outbox[-1].to == [email]
    assert record.confirmation_code in mail.outbox[-1].body


def test_a_former_members_reply_says_so_in_the_conversation(client, world, agent):
    conversation = Message.objects.get(text="Yes, open until six").conversation
    deletion.user_delete(user=agent, password=PASSWORD)
    client.force_login(world.owner.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).text

    assert "Former member" in page
    assert "From the phone app" not in page


def test_a_wrong_password_deletes_nothing_and_tries_are_limited(client, agent):
    client.force_login(agent)
    url = reverse("account_delete")

    wrong = [client.post(url, {"password": "not it"}) for _attempt in range(5)]
    right_too_late = client.post(url, {"password": PASSWORD})

    assert all("That password is not right." in answer.text for answer in wrong)
    assert "Too many tries" in right_too_late.text
    assert User.objects.filter(pk=agent.pk).exists()


def test_the_last_owner_must_hand_over_or_delete_the_organisation_first(client, world):
    owner = world.owner.user
    owner.set_password(PASSWORD)
    owner.save()
    client.force_login(owner)
    url = reverse("account_delete")

    page = client.get(url).text
    refused = client.post(url, {"password": PASSWORD})
    Membership.objects.filter(pk=world.agent.pk).update(role=Role.OWNER)
    allowed = client.post(url, {"password": PASSWORD})

    assert reverse("organization_delete", args=[world.org.slug]) in page
    assert "You are the only owner of Acme Coffee" in refused.text
    assert allowed.status_code == 302
    assert not User.objects.filter(pk=owner.pk).exists()


def test_an_organisation_being_deleted_does_not_hold_its_owner_back(world):
    owner = world.outsider.user
    owner.set_password(PASSWORD)
    owner.save()
    Organization.objects.filter(pk=world.other_org.pk).update(deletion_requested_at=timezone.now())

    deletion.user_delete(user=owner, password=PASSWORD)

    assert not User.objects.filter(pk=owner.pk).exists()


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(reverse("account_delete"))

    assert response.status_code == 302
    assert "/sign-in/" in response.url


@pytest.fixture
def owner_client(client, world):
    world.owner.user.set_password(PASSWORD)
    world.owner.user.save()
    client.force_login(world.owner.user)
    return client


@pytest.fixture
def connected(owner_client, world, meta):
    """The Pages and Instagram account the simulator's business owner has, connected to
    the organisation, with a customer's conversation holding a photo and a picture; and
    a channel of the other organisation with its own customer."""
    connect(owner_client, meta, world.org, "facebook")
    page = Channel.objects.filter(organization=world.org, kind="messenger").first()
    conversation = make_conversation(page, customer="7200000000000009", name="Zehra Doğan")
    photo = make_message(conversation, text="Zehra's order 4471 is wrong")
    make_attachment(photo)
    give_avatar(conversation.contact)
    elsewhere = make_channel(world.other_org, external_id="5550001")
    make_message(make_conversation(elsewhere, name="Kept Customer"), text="Keep me")
    return page


def test_an_owner_deletes_the_organisation_and_everything_it_holds(
    owner_client,
    world,
    connected,
    meta,
    celery_eager,
    committed,
):
    page = connected
    assert meta.state.subscriptions.get(page.external_id)
    files_before = stored_files()
    org_pk = world.org.pk

    with committed():
        response = owner_client.post(
            reverse("organization_delete", args=[world.org.slug]),
            {"confirmation": "  Acme   Coffee ", "password": PASSWORD},
        )

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not Organization.objects.filter(pk=org_pk).exists()
    assert not meta.state.subscriptions.get(page.external_id)
    assert all(
        token.revoked for token in meta.state.tokens.values() if token.kind in ("user", "page")
    )
    for model in (Channel, Contact, Conversation, Message, Note, Membership, AuditEvent):
        assert not model.objects.filter(organization_id=org_pk).exists(), model
    for needle in ("Zehra", "7200000000000009", "order 4471", page.external_id):
        assert columns_holding(needle) == [], needle
    assert len(stored_files()) == len(files_before) - 3  # photo, thumbnail, picture
    assert Message.objects.filter(text="Keep me").exists()
    assert User.objects.filter(pk=world.owner.user.pk).exists()
    record = AuditEvent.objects.get(action="organization.deleted", organization=None)
    assert record.target.startswith("Acme Coffee (acme): ")
    assert "messages: 1" in record.target
    assert sorted(message.to[0] for message in mail.outbox[-2:]) == [
        "agent@acme.example",
        "owner@acme.example",
    ]


def test_a_deleted_organisation_is_closed_at_once_and_its_erasure_resumed(
    owner_client,
    world,
    connected,
    meta,
    celery_eager,
):
    handed = []
    deletion.organization_delete(
        membership=world.owner,
        confirmation="Acme Coffee",
        password=PASSWORD,
        erase_later=handed.append,
    )

    assert owner_client.get(reverse("inbox", args=[world.org.slug])).status_code == 404
    assert "Acme Coffee" not in owner_client.get(reverse("profile")).text
    assert deletion.organizations_to_erase() == []  # its worker may still be at it
    Organization.objects.filter(pk=world.org.pk).update(
        deletion_requested_at=timezone.now() - timedelta(minutes=71)
    )
    assert deletion.organizations_to_erase() == [world.org.pk]
    # Cut off after releasing the channels at Meta: a second run finishes the work.
    for channel in Channel.objects.for_org(world.org):
        channel_disconnect(channel=channel, actor=None)
    assert tasks.organizations_erase_sweep.apply().get() == 1
    assert not Organization.objects.filter(pk=world.org.pk).exists()
    assert deletion.organization_erase(organization_id=world.org.pk) == {}


def test_meta_unreachable_does_not_stop_the_erasure(world, connected, meta):
    Organization.objects.filter(pk=world.org.pk).update(deletion_requested_at=timezone.now())
    graph_client.use_transport(httpx.MockTransport(lambda request: httpx.Response(503)))

    erased = deletion.organization_erase(organization_id=world.org.pk)

    assert erased["channels"] == 3
    assert not Organization.objects.filter(pk=world.org.pk).exists()
    assert list(Channel.objects.values_list("organization", flat=True)) == [world.other_org.pk]


@pytest.mark.parametrize(
    ("who", "status"), [("agent", 403), ("outsider", 404)]
)  # an admin is refused as an agent is: only owners
def test_only_owners_delete_an_organisation(client, world, who, status):
    client.force_login(getattr(world, who).user)
    url = reverse("organization_delete", args=[world.org.slug])

    assert client.get(url).status_code == status
    assert client.post(url, {"confirmation": "Acme Coffee", "password": PASSWORD}).status_code == (
        status
    )
    assert Organization.objects.get(pk=world.org.pk).deletion_requested_at is None


def test_an_admin_cannot_delete_the_organisation(client, world):
    Membership.objects.filter(pk=world.agent.pk).update(role=Role.ADMIN)
    client.force_login(world.agent.user)

    response = client.post(
        reverse("organization_delete", args=[world.org.slug]),
        {"confirmation": "Acme Coffee", "password": PASSWORD},
    )

    assert response.status_code == 403
    assert Organization.objects.get(pk=world.org.pk).deletion_requested_at is None


def test_a_mistyped_name_deletes_nothing(owner_client, world):
    url = reverse("organization_delete", args=[world.org.slug])

    page = owner_client.get(url).text
    refused = owner_client.post(url, {"confirmation": "Acme", "password": PASSWORD})

    assert "To confirm, type" in page
    assert "Type the organisation&#x27;s name exactly" in refused.text
    assert Organization.objects.get(pk=world.org.pk).deletion_requested_at is None
    assert not AuditEvent.objects.filter(action="organization.deletion_requested").exists()


def test_the_owners_password_is_asked_and_its_tries_are_limited(owner_client, world):
    url = reverse("organization_delete", args=[world.org.slug])

    missing = owner_client.post(url, {"confirmation": "Acme Coffee"})
    wrong = [
        owner_client.post(url, {"confirmation": "Acme Coffee", "password": "guess"})
        for _try in range(deletion.PASSWORD_TRIES_PER_HOUR)
    ]
    right_but_too_late = owner_client.post(
        url, {"confirmation": "Acme Coffee", "password": PASSWORD}
    )

    assert "This field is required." in missing.text
    assert "That password is not right." in wrong[0].text
    assert "Too many tries" in right_but_too_late.text
    assert Organization.objects.get(pk=world.org.pk).deletion_requested_at is None


def test_the_owner_of_a_suspended_organisation_may_still_delete_it(owner_client, client, world):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    url = reverse("organization_delete", args=[world.org.slug])

    suspended = owner_client.get(reverse("inbox", args=[world.org.slug]))
    deleted = owner_client.post(url, {"confirmation": "Acme Coffee", "password": PASSWORD})
    client.force_login(world.agent.user)

    assert suspended.status_code == 403
    assert url in suspended.text
    assert deleted.status_code == 302
    assert Organization.objects.get(pk=world.org.pk).deletion_requested_at is not None
    assert client.get(url).status_code == 404  # deleted: gone for everyone


def test_an_agent_of_a_suspended_organisation_is_not_offered_its_deletion(client, world):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    client.force_login(world.agent.user)
    url = reverse("organization_delete", args=[world.org.slug])

    suspended = client.get(reverse("inbox", args=[world.org.slug]))

    assert url not in suspended.text
    assert client.get(url).status_code == 403


def test_an_erasure_another_worker_is_at_is_left_to_it(world, connected):
    Organization.objects.filter(pk=world.org.pk).update(
        deletion_requested_at=timezone.now() - timedelta(minutes=200),
        erasure_claimed_at=timezone.now() - timedelta(minutes=5),
    )

    assert deletion.organizations_to_erase() == []
    assert deletion.organization_erase(organization_id=world.org.pk) == {}
    assert Channel.objects.filter(organization=world.org).count() == 3

    Organization.objects.filter(pk=world.org.pk).update(
        erasure_claimed_at=timezone.now() - timedelta(minutes=71)
    )
    assert deletion.organizations_to_erase() == [world.org.pk]  # that worker was cut off
    assert deletion.organization_erase(organization_id=world.org.pk)["channels"] == 3


def test_an_export_deleted_while_it_is_built_leaves_no_file(world, monkeypatch):
    export = Export.objects.create(requested_by=world.agent.user)
    parts = exports.user_parts

    def parts_of_an_account_deleted_meanwhile(user):
        Export.objects.filter(pk=export.pk).delete()
        return parts(user)

    monkeypatch.setattr(exports, "user_parts", parts_of_an_account_deleted_meanwhile)
    files_before = stored_files()

    assert export_jobs.export_build(export_id=export.pk) == "skipped"
    assert stored_files() == files_before


def test_only_the_address_itself_is_wiped_from_others_records(agent):
    number = agent.pk
    for target in ("coagent@acme.example", "agent@acme.example.org", f"by {agent.email}."):
        audit_record(action="member.added", target=target)

    deletion.user_delete(user=agent, password=PASSWORD)

    targets = set(AuditEvent.objects.filter(action="member.added").values_list("target", flat=True))
    assert {"coagent@acme.example", "agent@acme.example.org", f"by account #{number}."} <= targets

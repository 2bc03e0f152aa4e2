from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Invitation, Membership, Role, User
from accounts.services import invitation_create
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {
    "full_name": "Mehmet Demir",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
    "confirm_adult": "on",
    "accept_terms": "on",
}


def invite(client, world, email="new@acme.example", role=Role.AGENT):
    url = reverse("invitation_create", args=[world.org.slug])
    return client.post(url, {"email": email, "role": role}, follow=True)


def link_from(mail) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", mail.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_inviting_sends_a_single_use_link_and_stores_only_its_hash(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)

    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@acme.example"]
    assert "Acme Coffee" in mailoutbox[0].subject
    link = link_from(mailoutbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert token not in invitation.token_hash
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_SENT).exists()


def test_accepting_creates_the_account_with_the_invited_role(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world, role=Role.ADMIN)
    client.logout()
    path = path_of(link_from(mailoutbox[0]))

    response = client.post(path, NEW_ACCOUNT)

    user = User.objects.get(email="new@acme.example")
    assert Membership.objects.get(user=user, organization=world.org).role == Role.ADMIN
    assert user.terms_accepted_at is not None
    assert user.adult_confirmed_at is not None
    assert response["Location"] == reverse("organization_home", args=[world.org.slug])
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_ACCEPTED).exists()


def test_a_used_link_does_not_work_again(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world)
    client.logout()
    path = path_of(link_from(mailoutbox[0]))
    client.post(path, NEW_ACCOUNT)
    client.logout()

    response = client.post(path, {**NEW_ACCOUNT, "full_name": "Someone Else"})

    assert response.status_code == 404
    assert "no longer works" in response.content.decode()
    assert User.objects.filter(email="new@acme.example").count() == 1


def test_an_expired_link_does_not_work(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.logout()

    response = client.post(path_of(link_from(mailoutbox[0])), NEW_ACCOUNT)

    assert response.status_code == 404
    assert not User.objects.filter(email="new@acme.example").exists()


def test_an_existing_account_signs_in_then_joins(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world, email="outsider@other.example")
    client.logout()
    path = path_of(link_from(mailoutbox[0]))

    page = client.get(path).content.decode()
    assert "Sign in to accept" in page
    client.force_login(world.outsider.user)
    client.post(path)

    assert Membership.objects.filter(user=world.outsider.user, organization=world.org).exists()
    # The person's other organisation is untouched.
    assert Membership.objects.filter(user=world.outsider.user).count() == 2


def test_a_link_opened_by_another_signed_in_account_does_not_attach_it(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    with django_capture_on_commit_callbacks(execute=True):
        invite(client, world)
    path = path_of(link_from(mailoutbox[0]))
    client.force_login(world.outsider.user)

    response = client.post(path)

    assert "for someone else" in response.content.decode()
    assert not Membership.objects.filter(user=world.outsider.user, organization=world.org).exists()
    assert Invitation.objects.get().accepted_at is None


def test_inviting_an_existing_member_is_refused(client, world):
    client.force_login(world.owner.user)

    response = invite(client, world, email="AGENT@acme.example")

    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_only_owners_invite_owners(client, world):
    admin_membership = Membership.objects.create(
        user=make_user("admin@acme.example"), organization=world.org, role=Role.ADMIN
    )
    client.force_login(admin_membership.user)

    response = invite(client, world, role=Role.OWNER)

    assert "Only owners" in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_invitation_can_be_withdrawn(client, world):
    invitation = invitation_create(actor=world.owner, email="new@acme.example", role=Role.AGENT)
    client.force_login(world.owner.user)

    client.post(reverse("invitation_revoke", args=[world.org.slug, invitation.pk]))

    assert not Invitation.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.INVITATION_REVOKED).exists()


def test_a_bad_form_says_what_is_wrong(client, world):
    client.force_login(world.owner.user)

    response = invite(client, world, email="not-an-address")

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not Invitation.objects.exists()


def test_invitations_a_member_sends_are_limited(client, world, mailoutbox, settings, committed):
    settings.INVITATIONS_PER_MEMBER_PER_HOUR = 3
    client.force_login(world.owner.user)
    with committed():
        for number in range(3):
            invite(client, world, email=f"person{number}@example.com")
        response = invite(client, world, email="fourth@example.com")

    assert "sent many invitations" in response.content.decode()
    assert len(mailoutbox) == 3
    assert not Invitation.objects.filter(email="fourth@example.com").exists()


def test_invitations_an_organisation_sends_are_limited_across_members(
    client, world, mailoutbox, settings, committed
):
    settings.INVITATIONS_PER_ORGANIZATION_PER_DAY = 2
    world.agent.role = Role.ADMIN
    world.agent.save()
    with committed():
        for member, email in ((world.owner, "a@example.com"), (world.agent, "b@example.com")):
            client.force_login(member.user)
            invite(client, world, email=email)
        response = invite(client, world, email="c@example.com")

    assert "sent many invitations" in response.content.decode()
    assert len(mailoutbox) == 2


def test_accepting_an_invitation_confirms_the_address(client, world, mailoutbox, committed):
    person = make_user("late@example.com", password="a long enough passphrase", confirmed=False)
    with committed():
        invitation_create(actor=world.owner, email="late@example.com", role=Role.AGENT)
    client.force_login(person)

    client.post(path_of(link_from(mailoutbox[0])))

    person.refresh_from_db()
    assert person.email_confirmed
    assert client.get(reverse("members", args=["acme"])).status_code == 200


def test_a_line_break_in_the_organisation_name_never_reaches_an_email_header(
    client, world, mailoutbox, committed
):
    world.org.name = "Acme\r\nBcc: victim@example.com"
    world.org.save()

    with committed():
        invitation_create(actor=world.owner, email="new@example.com", role=Role.AGENT)

    assert "\n" not in mailoutbox[0].subject
    assert mailoutbox[0].bcc == []

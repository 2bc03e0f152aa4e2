"""Platform staff run organisations from Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from tests.otp import sign_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    sign_in_staff(client)
    return client


def run_action(staff_client, action, organizations):
    return staff_client.post(
        reverse("admin:accounts_organization_changelist"),
        {"action": action, "_selected_action": [org.pk for org in organizations]},
        follow=True,
    )


def test_staff_suspend_an_organisation_and_its_members_see_the_suspended_page(
    staff_client, client, world
):
    response = run_action(staff_client, "suspend", [world.org])

    assert "1 organisation suspended." in response.content.decode()
    world.org.refresh_from_db()
    assert world.org.is_suspended
    assert world.org.suspended_at is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.ORGANIZATION_SUSPENDED, organization=world.org
    ).exists()
    staff_client.force_login(world.agent.user)
    page = staff_client.get(reverse("organization_home", args=["acme"]))
    assert page.status_code == 403
    assert "This organisation is suspended" in page.content.decode()


def test_staff_reinstate_a_suspended_organisation(staff_client, world):
    run_action(staff_client, "suspend", [world.org])

    run_action(staff_client, "unsuspend", [world.org])

    world.org.refresh_from_db()
    assert not world.org.is_suspended
    assert AuditEvent.objects.filter(action=AuditAction.ORGANIZATION_UNSUSPENDED).count() == 1


def test_suspending_twice_records_one_suspension(staff_client, world):
    run_action(staff_client, "suspend", [world.org])
    response = run_action(staff_client, "suspend", [world.org])

    assert "0 organisations suspended." in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.ORGANIZATION_SUSPENDED).count() == 1


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("organization", "acme", "Acme Coffee"),
        ("organization", "outsider@other.example", "Other Shop"),
        ("user", "agent@", "agent@acme.example"),
        ("membership", "acme", "owner@acme.example"),
    ],
)
def test_staff_search_organisations_users_and_memberships(
    staff_client, world, model, query, expected
):
    url = reverse(f"admin:accounts_{model}_changelist")

    page = staff_client.get(url, {"q": query}).content.decode()

    assert expected in page


def test_the_admin_never_shows_a_password_hash_or_invitation_token(staff_client, world):
    from accounts.services import invitation_create

    invitation = invitation_create(actor=world.owner, email="new@acme.example", role="agent")
    world.owner.user.set_password("a password to hash")
    world.owner.user.save()

    user_page = staff_client.get(
        reverse("admin:accounts_user_change", args=[world.owner.user.pk])
    ).content.decode()
    invitation_page = staff_client.get(
        reverse("admin:accounts_invitation_change", args=[invitation.pk])
    ).content.decode()

    assert world.owner.user.password.split("$")[-1] not in user_page
    assert invitation.token_hash not in invitation_page


def test_agents_and_owners_cannot_open_the_platform_admin(client, world):
    client.force_login(world.owner.user)

    response = client.get(reverse("admin:accounts_organization_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_see_audit_actions_by_name_and_filter_by_them(staff_client, world):
    AuditEvent.objects.create(
        organization=world.org, action=AuditAction.MEMBER_ADDED, target="new@acme.example"
    )
    AuditEvent.objects.create(
        organization=world.org, action=AuditAction.ORGANIZATION_RENAMED, target="Acme"
    )
    url = reverse("admin:accounts_auditevent_changelist")

    page = staff_client.get(url).content.decode()
    filtered = staff_client.get(url, {"action": AuditAction.MEMBER_ADDED}).content.decode()

    assert "Member added" in page
    assert "Organisation renamed" in page
    assert "Acme</td>" in page
    assert "new@acme.example" in filtered
    assert "Acme</td>" not in filtered

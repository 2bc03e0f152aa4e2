from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Organization, Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_the_landing_page_explains_padu_to_a_visitor(client):
    page = client.get("/").content.decode()

    assert "One inbox for Instagram, Messenger and WhatsApp" in page
    assert reverse("sign_up") in page
    assert reverse("login") in page


def test_a_person_in_two_organisations_switches_between_them(client, world):
    Membership.objects.create(user=world.owner.user, organization=world.other_org, role=Role.AGENT)
    client.force_login(world.owner.user)

    page = client.get(reverse("organization_home", args=["acme"])).content.decode()
    assert reverse("organization_home", args=["other"]) in page
    client.get(reverse("organization_home", args=["other"]))

    assert client.get("/")["Location"] == reverse("organization_home", args=["other"])


def test_the_start_page_opens_the_first_organisation_without_a_last_used_one(client, world):
    client.force_login(world.agent.user)

    assert client.get("/")["Location"] == reverse("organization_home", args=["acme"])


def test_someone_without_an_organisation_is_offered_to_create_one(client, db):
    client.force_login(make_user("alone@example.com"))

    page = client.get("/").content.decode()
    assert "You are not in an organisation" in page
    response = client.post(reverse("organization_new"), {"name": "Solo Studio"})

    organization = Organization.objects.get(name="Solo Studio")
    assert response["Location"] == reverse("organization_home", args=[organization.slug])
    assert organization.memberships.get().role == Role.OWNER


def test_an_admin_renames_the_organisation(client, world):
    client.force_login(world.owner.user)

    client.post(reverse("organization_settings", args=["acme"]), {"name": "Acme Roasters"})

    world.org.refresh_from_db()
    assert world.org.name == "Acme Roasters"
    assert AuditEvent.objects.filter(action=AuditAction.ORGANIZATION_RENAMED).exists()


def test_a_name_with_a_line_break_is_a_form_error_not_a_crash(client, world):
    client.force_login(world.owner.user)

    response = client.post(
        reverse("organization_settings", args=["acme"]), {"name": "Acme\r\nBcc: x@example.com"}
    )

    assert response.status_code == 200
    assert "without line breaks" in response.content.decode()
    world.org.refresh_from_db()
    assert world.org.name == "Acme Coffee"


def test_the_audit_log_shows_only_this_organisations_events(client, world):
    AuditEvent.objects.create(
        organization=world.org, action=AuditAction.MEMBER_ADDED, target="mine@acme.example"
    )
    AuditEvent.objects.create(
        organization=world.other_org, action=AuditAction.MEMBER_ADDED, target="theirs@x.example"
    )
    client.force_login(world.owner.user)

    page = client.get(reverse("audit_log", args=["acme"])).content.decode()

    assert "mine@acme.example" in page
    assert "theirs@x.example" not in page


def test_the_audit_log_page_runs_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries
):
    AuditEvent.objects.bulk_create(
        AuditEvent(organization=world.org, actor=world.agent.user, action=AuditAction.SIGNED_IN)
        for _ in range(60)
    )
    client.force_login(world.owner.user)
    client.get(reverse("organization_home", args=["acme"]))

    with django_assert_max_num_queries(8):
        response = client.get(reverse("audit_log", args=["acme"]))
    assert response.content.decode().count("Agent</td>") == 50


def test_health_check_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert (response.status_code, response.content) == (200, b"ok")

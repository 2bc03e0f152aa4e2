"""Every tenant URL: another organisation's member gets 404, agents get 403 where only
owners and admins may go, anonymous visitors are sent to sign in, and a suspended
organisation serves nothing but the suspended page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Invitation, Membership
from accounts.services import invitation_create

pytestmark = pytest.mark.django_db


def tenant_urls(world) -> list[tuple[str, str, bool]]:
    """(method, url, managers_only) for every URL under /o/<slug>/."""
    slug = world.org.slug
    invitation = invitation_create(actor=world.owner, email="new@acme.example", role="agent")
    return [
        ("get", reverse("organization_home", args=[slug]), False),
        ("get", reverse("organization_settings", args=[slug]), False),
        ("post", reverse("organization_settings", args=[slug]), True),
        ("post", reverse("organization_two_factor", args=[slug]), True),
        ("post", reverse("organization_leave", args=[slug]), False),
        ("get", reverse("audit_log", args=[slug]), True),
        ("get", reverse("members", args=[slug]), False),
        ("post", reverse("invitation_create", args=[slug]), True),
        ("post", reverse("member_role", args=[slug, world.agent.pk]), True),
        ("post", reverse("member_remove", args=[slug, world.agent.pk]), True),
        ("post", reverse("invitation_revoke", args=[slug, invitation.pk]), True),
    ]


def test_every_tenant_url_is_404_for_another_organisations_member(client, world):
    client.force_login(world.outsider.user)
    for method, url, _managers_only in tenant_urls(world):
        response = getattr(client, method)(url, {"name": "Taken", "role": "owner"})
        assert response.status_code == 404, (method, url)
    assert Membership.objects.filter(pk=world.agent.pk, role="agent").exists()
    assert world.org.memberships.count() == 2


def test_every_tenant_url_sends_anonymous_visitors_to_sign_in(client, world):
    for method, url, _managers_only in tenant_urls(world):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login")), url


def test_agents_are_refused_what_only_owners_and_admins_may_do(client, world):
    client.force_login(world.agent.user)
    for method, url, managers_only in tenant_urls(world):
        if not managers_only:
            continue
        response = getattr(client, method)(url, {"name": "Renamed", "role": "owner"})
        assert response.status_code == 403, (method, url)
    world.org.refresh_from_db()
    assert world.org.name == "Acme Coffee"
    assert Invitation.objects.for_org(world.org).count() == 1


def test_an_id_from_another_organisation_is_404_even_for_an_owner(client, world):
    client.force_login(world.owner.user)
    url = reverse("member_remove", args=[world.org.slug, world.outsider.pk])
    assert client.post(url).status_code == 404
    assert Membership.objects.filter(pk=world.outsider.pk).exists()


def test_a_suspended_organisation_shows_only_the_suspended_page(client, world):
    world.org.is_suspended = True
    world.org.save()
    client.force_login(world.owner.user)
    for method, url, _managers_only in tenant_urls(world):
        response = getattr(client, method)(url, {"name": "Renamed", "role": "agent"})
        assert response.status_code == 403, (method, url)
        assert b"This organisation is suspended" in response.content
    world.org.refresh_from_db()
    assert world.org.name == "Acme Coffee"
    assert world.org.memberships.count() == 2


def test_suspension_does_not_touch_the_members_other_organisations(client, world):
    world.org.is_suspended = True
    world.org.save()
    client.force_login(world.outsider.user)
    assert client.get(reverse("organization_home", args=["other"])).status_code == 200

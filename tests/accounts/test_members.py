from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Role
from accounts.services import MembershipRuleError, membership_change_role
from tests.conftest import make_member

pytestmark = pytest.mark.django_db


def change_role(client, world, membership, role):
    url = reverse("member_role", args=[world.org.slug, membership.pk])
    return client.post(url, {"role": role}, follow=True)


def remove(client, world, membership):
    url = reverse("member_remove", args=[world.org.slug, membership.pk])
    return client.post(url, follow=True)


def role_of(membership):
    return Membership.objects.get(pk=membership.pk).role


def test_members_page_lists_everyone_in_the_organisation_and_no_one_else(client, world):
    client.force_login(world.agent.user)

    page = client.get(reverse("members", args=[world.org.slug])).content.decode()

    assert "owner@acme.example" in page
    assert "agent@acme.example" in page
    assert "outsider@other.example" not in page
    assert "Invite a colleague" not in page


def test_members_page_runs_the_same_number_of_queries_for_many_members(
    client, world, django_assert_max_num_queries
):
    client.force_login(world.owner.user)
    url = reverse("members", args=[world.org.slug])
    client.get(url)
    for number in range(30):
        make_member(world.org, f"agent{number}@acme.example")

    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.content.decode().count("@acme.example</td>") == 32


def test_an_owner_makes_an_agent_admin_and_it_is_audited(client, world):
    client.force_login(world.owner.user)

    change_role(client, world, world.agent, Role.ADMIN)

    assert role_of(world.agent) == Role.ADMIN
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ROLE_CHANGED)
    assert event.organization == world.org
    assert event.actor == world.owner.user
    assert "agent@acme.example" in event.target


def test_an_admin_manages_agents_but_cannot_grant_or_remove_owner(client, world):
    admin = make_member(world.org, "admin@acme.example", Role.ADMIN)
    client.force_login(admin.user)

    change_role(client, world, world.agent, Role.ADMIN)
    assert role_of(world.agent) == Role.ADMIN
    response = change_role(client, world, world.agent, Role.OWNER)
    assert "Only owners can grant or remove the owner role." in response.content.decode()
    assert role_of(world.agent) == Role.ADMIN
    change_role(client, world, world.owner, Role.AGENT)
    remove(client, world, world.owner)
    assert role_of(world.owner) == Role.OWNER


def test_an_agent_cannot_manage_members(client, world):
    other_agent = make_member(world.org, "second@acme.example")
    client.force_login(world.agent.user)

    assert change_role(client, world, other_agent, Role.ADMIN).status_code == 403
    assert remove(client, world, other_agent).status_code == 403
    assert role_of(other_agent) == Role.AGENT


def test_the_last_owner_cannot_be_demoted_or_leave(client, world):
    client.force_login(world.owner.user)

    with pytest.raises(MembershipRuleError, match="at least one owner"):
        membership_change_role(actor=world.owner, membership=world.owner, role=Role.ADMIN)
    response = client.post(reverse("organization_leave", args=[world.org.slug]), follow=True)

    assert "at least one owner" in response.content.decode()
    assert role_of(world.owner) == Role.OWNER


def test_with_two_owners_one_may_demote_the_other_and_then_not_itself(client, world):
    second = make_member(world.org, "second-owner@acme.example", Role.OWNER)
    client.force_login(world.owner.user)

    change_role(client, world, second, Role.ADMIN)

    assert role_of(second) == Role.ADMIN
    client.post(reverse("organization_leave", args=[world.org.slug]))
    assert role_of(world.owner) == Role.OWNER


def test_a_member_leaves_and_loses_access(client, world):
    client.force_login(world.agent.user)

    response = client.post(reverse("organization_leave", args=[world.org.slug]))

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=world.agent.pk).exists()
    assert client.get(reverse("organization_home", args=[world.org.slug])).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_LEFT).exists()


def test_an_owner_removes_an_agent(client, world):
    client.force_login(world.owner.user)

    remove(client, world, world.agent)

    assert not Membership.objects.filter(pk=world.agent.pk).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.MEMBER_REMOVED, target="agent@acme.example"
    ).exists()


def test_an_unknown_role_is_refused(client, world):
    client.force_login(world.owner.user)

    response = change_role(client, world, world.agent, "superhero")

    assert "Choose a valid role." in response.content.decode()
    assert role_of(world.agent) == Role.AGENT


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(world):
    second = make_member(world.org, "second-owner@acme.example", Role.OWNER)
    start = threading.Barrier(2)
    outcomes = []

    def demote(actor, membership):
        start.wait()
        try:
            membership_change_role(actor=actor, membership=membership, role=Role.ADMIN)
            outcomes.append("demoted")
        except MembershipRuleError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(world.owner, second)),
        threading.Thread(target=demote, args=(second, world.owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["demoted", "refused"]
    assert Membership.objects.filter(organization=world.org, role=Role.OWNER).count() == 1

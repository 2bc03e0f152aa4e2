"""The members and audit pages cost the same number of queries however many rows they
show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Invitation, Role
from accounts.services import invitation_issue
from tests.conftest import make_member

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> int:
    client.get(url)  # The first visit also records the organisation in the session.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _add_members_and_invitations(world, start: int, count: int) -> None:
    for number in range(start, start + count):
        make_member(world.org, f"agent{number}@acme.example", Role.AGENT)
        invitation_issue(
            organization=world.org,
            email=f"invited{number}@acme.example",
            role=Role.AGENT,
            invited_by=world.owner.user,
        )


def test_the_members_page_makes_the_same_queries_for_2_or_12_members(client, world):
    client.force_login(world.owner.user)
    url = reverse("members", args=[world.org.slug])
    _add_members_and_invitations(world, 0, 1)
    few = _queries(client, url)

    _add_members_and_invitations(world, 1, 10)
    many = _queries(client, url)

    assert Invitation.objects.for_org(world.org).count() == 11
    assert many == few


def test_the_audit_log_makes_the_same_queries_for_1_or_50_events(client, world):
    client.force_login(world.owner.user)
    url = reverse("audit_log", args=[world.org.slug])
    AuditEvent.objects.create(
        organization=world.org, actor=world.agent.user, action=AuditAction.MEMBER_ADDED
    )
    few = _queries(client, url)

    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization=world.org,
            actor=(world.owner if number % 2 else world.agent).user,
            action=AuditAction.CHANNEL_CONNECTED,
            target=f"Page {number}",
        )
        for number in range(49)
    )
    many = _queries(client, url)

    assert many == few

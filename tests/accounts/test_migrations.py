from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from accounts.models import AuditAction, AuditEvent, Membership, Role

pytestmark = pytest.mark.django_db

email_confirmation = importlib.import_module("accounts.migrations.0004_email_confirmation")


def test_sign_ins_once_copied_into_every_organisation_become_one_on_the_person(world):
    user = world.owner.user
    Membership.objects.create(user=user, organization=world.other_org, role=Role.AGENT)
    # What sign-ins were recorded as before: one row per organisation, moments apart.
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization_id=organization_id,
            actor=user,
            action=AuditAction.SIGNED_IN,
            target=user.email,
            ip="192.0.2.5",
        )
        for organization_id in user.memberships.values_list("organization_id", flat=True)
    )

    email_confirmation.move_sign_ins_to_people(apps, None)

    sign_ins = AuditEvent.objects.filter(action=AuditAction.SIGNED_IN)
    assert list(sign_ins.values_list("organization", "ip")) == [(None, "192.0.2.5")]

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from inbox.models import PendingReceipt

pytestmark = pytest.mark.django_db

backfill = importlib.import_module("inbox.migrations.0003_pendingreceipt_organization_backfill")


def test_a_waiting_receipt_belongs_to_the_organisation_of_its_channel(channels, world):
    receipt = PendingReceipt.objects.create(
        organization=world.other_org,
        channel=channels["whatsapp"],
        external_id="wamid.later",
        status="read",
        at=timezone.now(),
    )

    backfill.organization_from_channel(apps, None)

    receipt.refresh_from_db()
    assert receipt.organization == world.org

"""Migrations that move data: run on rows made under the schema before them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("channels_meta", "0003_webhook_events")
AFTER = ("channels_meta", "0005_message_template_organization_required")


def migrate(target):
    """Move channels_meta to `target`, the other apps staying where they are."""
    executor = MigrationExecutor(connection)
    targets = [target, *executor.loader.graph.leaf_nodes("accounts")]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Later tests that commit need every migration applied, not only up to AFTER."""
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes("channels_meta")[0])


@pytest.mark.django_db(transaction=True)
def test_existing_templates_get_the_organisation_of_their_channel():
    old = migrate(BEFORE)
    organization = old.get_model("accounts", "Organization").objects.create(
        name="Acme Coffee", slug="acme"
    )
    channel = old.get_model("channels_meta", "Channel").objects.create(
        organization=organization, kind="whatsapp", external_id="1000001", name="Acme"
    )
    old.get_model("channels_meta", "MessageTemplate").objects.create(
        channel=channel, name="order_update", language="en_US", status="APPROVED"
    )

    new = migrate(AFTER)

    template = new.get_model("channels_meta", "MessageTemplate").objects.get()
    assert template.organization_id == organization.pk

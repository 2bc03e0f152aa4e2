"""Labels, saved replies, channels, templates and the data request queue through the API."""

from __future__ import annotations

import pytest

from channels_meta.models import MessageTemplate
from inbox.models import Label, SavedReply
from privacy.models import DataRequest, RequestKind, RequestSource, RequestStatus
from tests.api.conftest import api_for
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


def test_a_manager_adds_and_removes_labels(world, api):
    created = api.post("labels/", {"name": "VIP", "colour": "red"})
    listed = api.get("labels/").json()
    removed = api.delete(f"labels/{created.json()['id']}/")

    assert created.status_code == 201
    assert listed == [{"id": created.json()["id"], "name": "VIP", "colour": "red"}]
    assert removed.status_code == 204
    assert not Label.objects.exists()


def test_a_label_name_taken_is_a_400(world, api):
    Label.objects.create(organization=world.org, name="VIP")

    response = api.post("labels/", {"name": "VIP", "colour": "red"})

    assert response.status_code == 400
    assert response.json()["detail"] == "There is already a label with that name."


def test_an_agent_reads_labels_but_cannot_add_them(client, world):
    client.force_login(world.agent.user)

    listed = client.get("/api/v1/o/acme/labels/")
    added = client.post(
        "/api/v1/o/acme/labels/", {"name": "X", "colour": "red"}, content_type="application/json"
    )

    assert (listed.status_code, added.status_code) == (200, 403)


def test_saved_replies_are_added_listed_and_removed(world, api):
    created = api.post("saved-replies/", {"shortcut": "hours", "text": "Open 9 to 6."})

    assert created.status_code == 201
    assert api.get("saved-replies/").json()[0]["shortcut"] == "hours"
    assert api.delete(f"saved-replies/{created.json()['id']}/").status_code == 204
    assert not SavedReply.objects.exists()


def test_channels_show_their_state_and_never_their_token(world, api):
    channel = make_channel(world.org, token="EAAG-secret-token")

    listed = api.get("channels/")
    one = api.get(f"channels/{channel.pk}/")

    assert listed.json()[0]["id"] == channel.pk
    assert one.json()["status"] == "active"
    assert "EAAG" not in listed.content.decode() + one.content.decode()


def test_a_channel_s_templates_are_listed(world, api):
    channel = make_channel(world.org)
    MessageTemplate.objects.create(
        organization=world.org,
        channel=channel,
        name="order_update",
        language="en",
        status="APPROVED",
    )

    response = api.get(f"channels/{channel.pk}/templates/")

    assert [row["name"] for row in response.json()] == ["order_update"]


def test_the_data_request_queue_is_read_by_managers(world, api):
    recorded = DataRequest.objects.create(
        organization=world.org,
        kind=RequestKind.ERASURE,
        source=RequestSource.STAFF,
        status=RequestStatus.VERIFIED,
    )
    DataRequest.objects.create(
        organization=world.other_org,
        kind=RequestKind.ERASURE,
        source=RequestSource.STAFF,
        status=RequestStatus.VERIFIED,
    )

    listed = api.get("data-requests/").json()
    one = api.get(f"data-requests/{recorded.pk}/").json()

    assert [row["id"] for row in listed] == [recorded.pk]
    assert one["kind"] == "erasure"


def test_an_admin_s_key_reads_the_queue_and_an_outsider_s_key_does_not(world):
    outsiders = api_for(world.outsider)

    assert outsiders.get("/api/v1/o/acme/data-requests/").status_code == 404

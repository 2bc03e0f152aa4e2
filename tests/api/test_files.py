"""A message's stored files through the API: the id comes from the message (or a
forwarded event), the bytes as stored, and nothing that is not stored or not the key's."""

from __future__ import annotations

import pytest

from inbox.models import AttachmentStatus
from tests.api.conftest import api_for
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_attachment, make_conversation, make_message, png

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(world):
    conversation = make_conversation(make_channel(world.org))
    return make_message(conversation, text="photo", attachments=[{"type": "image"}])


def test_a_read_key_fetches_a_stored_file_named_by_its_message(read_api, message):
    stored = make_attachment(message)
    [listed] = read_api.get(f"conversations/{message.conversation_id}/messages/").json()["results"]

    response = read_api.get(f"files/{listed['files'][0]['id']}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == png()
    assert listed["files"][0]["id"] == stored.pk


@pytest.mark.parametrize(
    "status", [AttachmentStatus.PENDING, AttachmentStatus.FAILED, AttachmentStatus.REFUSED]
)
def test_a_file_not_stored_is_not_found(api, message, status):
    attachment = make_attachment(message, status=status)

    response = api.get(f"files/{attachment.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_organisations_file_is_not_found(world, message):
    attachment = make_attachment(message)

    response = api_for(world.outsider).get(f"files/{attachment.pk}/")

    assert response.status_code == 404

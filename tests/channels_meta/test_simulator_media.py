"""The simulator serves customers' media as Meta does: WhatsApp media by id, then a
short-lived URL that needs the number's token; Messenger and Instagram attachments as
signed CDN links that expire; all on its own address."""

from __future__ import annotations

import io
import json
import time

import pytest
from PIL import Image

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors
from channels_meta.simulator.media import CDN_LINK_SECONDS, SAMPLE_FILES


def attachment_url(meta) -> str:
    meta.sender.flush_all()
    delivered = json.loads(meta.receiver.bodies[-1])
    message = delivered["entry"][0]["messaging"][0]["message"]
    return message["attachments"][0]["payload"]["url"]


def test_a_customers_photo_is_a_real_picture_on_the_simulators_own_address(meta):
    page = meta.assets["pages"][0]

    meta.customer_writes(kind="messenger", business_id=page["id"], media_type="image")
    url = attachment_url(meta)
    answer = meta.http.get(url)

    assert url.startswith("https://media.simulator.test/cdn/")
    assert answer.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(answer.content)) as photo:
        assert photo.format == "JPEG"


def test_a_cdn_link_stops_working_when_it_expires_or_is_altered(meta, monkeypatch):
    account = meta.assets["instagram_accounts"][0]
    meta.customer_writes(kind="instagram", business_id=account["id"], media_type="video")
    url = attachment_url(meta)

    assert meta.http.get(url).status_code == 200
    assert meta.http.get(url.replace("oe=", "oe=f")).status_code == 403
    later = time.time() + CDN_LINK_SECONDS + 60
    monkeypatch.setattr(meta.state, "clock", lambda: later)
    assert meta.http.get(url).content == b"URL signature expired"


def test_whatsapp_media_is_given_only_for_the_number_it_was_sent_to(meta):
    first, second = meta.assets["whatsapp_numbers"][:2]
    sent = meta.customer_writes(kind="whatsapp", business_id=first["id"], media_type="document")
    client = graph_client.client()

    found = client.get(
        sent["media_id"], token=first["system_token"], params={"phone_number_id": first["id"]}
    )

    mime_type, content = SAMPLE_FILES["document"]
    assert (found["mime_type"], found["file_size"]) == (mime_type, len(content))
    with pytest.raises(errors.PermanentError):
        client.get(
            sent["media_id"],
            token=first["system_token"],
            params={"phone_number_id": second["id"]},
        )
    with pytest.raises(errors.PermissionMissing):
        client.get(sent["media_id"], token=second["system_token"])

"""Fixtures of the privacy tests: the Meta simulator (for those that release channels at
Meta), and a business's customers who ask about their data."""

from __future__ import annotations

import pytest

from channels_meta.models import ChannelKind, WebhookEvent
from inbox.models import Contact, Note
from tests.channels_meta import payloads as p
from tests.channels_meta.conftest import meta  # noqa: F401
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import give_avatar, make_attachment, make_conversation, make_message


@pytest.fixture
def customers(world):
    """Zeynep (@zeynep.k on Instagram, with a photo, a picture, a note and a stored
    delivery naming her) and Ali on the same account; a contact with her handle in
    another organisation."""
    instagram = make_channel(world.org, kind=ChannelKind.INSTAGRAM, external_id=p.IG_ID)
    zeynep = make_conversation(instagram, customer="17800000000000042", name="Zeynep K")
    give_avatar(zeynep.contact)
    Contact.objects.filter(pk=zeynep.contact_id).update(
        username="zeynep.k", email="zk@shop.example", notes="Likes the blue mug"
    )
    make_attachment(make_message(zeynep, text="Where is parcel 5521?"))
    Note.objects.create(organization=world.org, conversation=zeynep, text="Called about 5521")
    for account in (p.IG_ID, "1784199"):  # her message to Acme; the same id at another shop
        WebhookEvent.objects.create(
            body=p.encode(delivery(account, "17800000000000042")), status="processed"
        )
    ali = make_conversation(instagram, customer="17800000000000077", name="Ali Veli")
    make_message(ali, text="Ali keeps this")
    elsewhere = make_channel(world.other_org, kind=ChannelKind.INSTAGRAM, external_id="1784199")
    other = make_conversation(elsewhere, customer="17800000000000042", name="Zeynep K")
    Contact.objects.filter(pk=other.contact_id).update(username="zeynep.k")
    return tuple(Contact.objects.get(pk=c.contact_id) for c in (zeynep, ali, other))


def delivery(account: str, customer: str) -> dict:
    message = {"sender": {"id": customer}, "recipient": {"id": account}, "message": {}}
    return {"object": "instagram", "entry": [{"id": account, "messaging": [message]}]}

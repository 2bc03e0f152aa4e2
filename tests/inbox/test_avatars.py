"""Customers' pictures kept: once a Messenger or Instagram profile names one, the worker
downloads it from Meta's picture hosts through the simulator and keeps a small square of
it in storage when it is an image, and the inbox shows it instead of the initials. What
cannot be kept leaves the initials, says why, and is not tried again and again; a new
link replaces the picture, and erasing leaves nothing in storage. (How pictures are
shown and served: test_avatars_shown.py.)"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from PIL import Image

from channels_meta.graph import client as graph_client
from channels_meta.graph.errors import TransientError
from channels_meta.models import ChannelKind
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.media import cdn_link, media_store
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.webhooks import WebhookSender
from inbox import live, tasks
from inbox.models import Contact
from inbox.services import avatars
from padu import demo
from padu.management.commands.demo import DEMO_APP, Command
from tests.channels_meta.conftest import SIMULATOR_MEDIA_URL, Receiver
from tests.channels_meta.delivery import deliver
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import give_avatar, make_conversation
from tests.inbox.payloads import whatsapp as wa
from tests.inbox.test_avatars_shown import avatar_url, list_row

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "The customer's picture is not an image."
ACTIVE_CONTENT = "Padu does not keep programs, scripts, web pages or SVG images."


def business(meta, world, kind: str):
    """A channel of the simulator's first Page or Instagram account, in the organisation."""
    account = meta.assets["pages" if kind == ChannelKind.MESSENGER else "instagram_accounts"][0]
    return make_channel(
        world.org, kind=kind, external_id=account["id"], token=account["system_token"]
    )


def customer_writes(meta, channel, **profile) -> str:
    """A customer writes to the channel; their id at Meta."""
    sent = meta.customer_writes(
        kind=channel.kind, business_id=channel.external_id, text="Merhaba", **profile
    )
    return sent["customer_id"]


def contact_of(customer_id: str) -> Contact:
    return Contact.objects.get(external_id=customer_id)


def on_metas_cdn(meta, settings, content: bytes, mime_type: str, *, expired: bool = False) -> str:
    """A link on Meta's picture CDN (the simulator's media host, taken as one) that
    serves `content`, or answers that it expired."""
    settings.META_PROFILE_PICTURE_HOSTS = [httpx.URL(SIMULATOR_MEDIA_URL).host]
    page_id = meta.assets["pages"][0]["id"]
    body = {"media_content": base64.b64encode(content).decode(), "media_mime_type": mime_type}
    media = media_store(meta.state, page_id, "image", body)
    media.expired = expired
    return cdn_link(meta.state, SIMULATOR_MEDIA_URL, media)


def downloads_of(recording, link: str) -> int:
    return sum(1 for request in recording.requests if str(request.url) == link)


def image_of(content: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(content)) as image:
        return image.format, image.size


def storage_files(settings) -> list[str]:
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    return [name for _dirs, _subdirs, names in os.walk(root) for name in names]


def noise_jpeg(size: int) -> bytes:
    output = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(output, "JPEG")
    return output.getvalue()


# Kept.


@pytest.mark.parametrize("kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM])
def test_a_customers_picture_is_kept_and_shown_in_the_list(client, meta, world, worker, kind):
    channel = business(meta, world, kind)
    customer_id = customer_writes(meta, channel, name="Ayşe Yılmaz")

    worker(meta)

    contact = contact_of(customer_id)
    assert contact.avatar.name.startswith(f"{world.org.pk}/")
    assert contact.avatar_source == contact.profile_picture_url
    assert (contact.avatar_reason, contact.avatar_attempts) == ("", 1)
    with contact.avatar.open("rb") as kept:
        assert image_of(kept.read()) == ("JPEG", (avatars.AVATAR_PIXELS, avatars.AVATAR_PIXELS))
    client.force_login(world.agent.user)
    row = list_row(client, world, contact)
    assert f'<img src="{avatar_url(contact)}" alt="" width="40" height="40" loading="lazy"' in row
    assert ">AY<" not in row


# Not kept, and not tried again and again.


@pytest.mark.parametrize(
    ("content", "mime_type", "reason"),
    [
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "image/jpeg", NOT_AN_IMAGE),
        (b"<svg onload='alert(1)'></svg>", "image/svg+xml", ACTIVE_CONTENT),
        (b"MZ\x90\x00" + bytes(60), "image/png", ACTIVE_CONTENT),
        (
            b"\xff\xd8\xff\xe0 not really a photo",
            "image/jpeg",
            "The image cannot be read; it may be damaged.",
        ),
    ],
)
def test_a_picture_that_is_not_an_image_leaves_the_initials_and_is_not_tried_again(
    client, meta, world, recording, worker, settings, content, mime_type, reason
):
    link = on_metas_cdn(meta, settings, content, mime_type)
    customer_id = customer_writes(
        meta, business(meta, world, ChannelKind.MESSENGER), name="Emily Clarke", picture_url=link
    )

    worker(meta)
    Contact.objects.update(profile_checked_at=timezone.now() - timedelta(hours=1))
    tasks.contact_avatars_sweep.delay()

    contact = contact_of(customer_id)
    assert (contact.avatar.name, contact.avatar_reason) == ("", reason)
    assert (contact.avatar_source, contact.avatar_attempts) == (link, 1)
    assert downloads_of(recording, link) == 1
    assert avatars.contacts_avatar_due() == []
    client.force_login(world.agent.user)
    assert ">EC</span>" in list_row(client, world, contact)
    assert client.get(avatar_url(contact)).status_code == 404


def test_a_picture_too_large_for_a_profile_is_not_kept_nor_left_in_storage(
    meta, world, worker, settings, monkeypatch
):
    photo = noise_jpeg(200)
    monkeypatch.setattr(avatars, "PICTURE_MAX_BYTES", len(photo) - 1)
    link = on_metas_cdn(meta, settings, photo, "image/jpeg")
    customer_id = customer_writes(
        meta, business(meta, world, ChannelKind.MESSENGER), picture_url=link
    )

    worker(meta)

    contact = contact_of(customer_id)
    assert contact.avatar.name == ""
    assert contact.avatar_reason.startswith("The file is larger than the ")
    assert not any(storage_files(settings))


def test_an_expired_picture_link_leaves_the_initials_with_the_reason(meta, world, worker, settings):
    link = on_metas_cdn(meta, settings, noise_jpeg(40), "image/jpeg", expired=True)
    customer_id = customer_writes(
        meta, business(meta, world, ChannelKind.MESSENGER), picture_url=link
    )

    worker(meta)

    contact = contact_of(customer_id)
    assert contact.avatar.name == ""
    assert contact.avatar_reason == "Meta no longer has the file: its link expired or was removed."
    assert avatars.contacts_avatar_due() == []


def test_meta_failing_is_tried_again_a_bounded_number_of_times(
    meta, world, channels, recording, celery_eager, settings, monkeypatch
):
    # Eager tasks retried as a worker retries them, raising only what is left in the end.
    monkeypatch.setitem(celery_eager.conf, "task_eager_propagates", False)
    link = on_metas_cdn(meta, settings, noise_jpeg(40), "image/jpeg")
    contact = make_conversation(channels["messenger"]).contact
    Contact.objects.filter(pk=contact.pk).update(
        profile_picture_url=link, profile_checked_at=timezone.now() - timedelta(hours=1)
    )
    meta.sim.outage_calls = 100

    tasks.contact_avatars_sweep.delay()
    tasks.contact_avatars_sweep.delay()

    contact.refresh_from_db()
    assert contact.avatar.name == ""
    assert contact.avatar_attempts == avatars.MAX_ATTEMPTS
    assert contact.avatar_reason.startswith(
        f"Meta could not be reached after {avatars.MAX_ATTEMPTS} tries"
    )
    assert downloads_of(recording, link) == avatars.MAX_ATTEMPTS


def test_a_link_meta_failed_on_is_kept_by_the_sweep_once_meta_is_back(
    meta, world, channels, settings
):
    photo = noise_jpeg(300)
    link = on_metas_cdn(meta, settings, photo, "image/jpeg")
    contact = make_conversation(channels["messenger"]).contact
    Contact.objects.filter(pk=contact.pk).update(
        profile_picture_url=link, profile_checked_at=timezone.now() - timedelta(hours=1)
    )
    meta.sim.outage_calls = 1
    with pytest.raises(TransientError):
        avatars.contact_avatars_fetch(contact_ids=[contact.pk])

    assert avatars.contacts_avatar_due() == [contact.pk]
    assert avatars.contact_avatars_fetch(contact_ids=avatars.contacts_avatar_due()) == {"stored": 1}
    contact.refresh_from_db()
    assert (contact.avatar_attempts, contact.avatar_reason) == (2, "")
    with contact.avatar.open("rb") as kept:
        assert image_of(kept.read())[1] == (avatars.AVATAR_PIXELS, avatars.AVATAR_PIXELS)


# Only Meta's hosts.


def test_a_profile_naming_a_picture_elsewhere_has_nothing_fetched(meta, world, recording, worker):
    link = "https://pictures.example.net/ayse.jpg"
    customer_id = customer_writes(
        meta, business(meta, world, ChannelKind.MESSENGER), picture_url=link
    )

    worker(meta)

    contact = contact_of(customer_id)
    assert (contact.profile_picture_url, contact.avatar.name) == ("", "")
    assert all(request.url.host != "pictures.example.net" for request in recording.requests)


def test_a_kept_link_no_longer_on_metas_picture_hosts_is_not_followed(
    meta, world, channels, recording, settings, celery_eager
):
    link = on_metas_cdn(meta, settings, noise_jpeg(40), "image/jpeg")
    contact = make_conversation(channels["messenger"]).contact
    Contact.objects.filter(pk=contact.pk).update(
        profile_picture_url=link, profile_checked_at=timezone.now() - timedelta(hours=1)
    )
    settings.META_PROFILE_PICTURE_HOSTS = ["fbcdn.net"]

    tasks.contact_avatars_sweep.delay()

    contact.refresh_from_db()
    assert contact.avatar.name == ""
    assert contact.avatar_reason == (
        "Meta's link for the file is not on its media hosts, so Padu did not follow it."
    )
    assert recording.requests == []
    assert avatars.contacts_avatar_due() == []


# A new picture, and erasing.


def test_a_new_picture_link_replaces_the_kept_picture(meta, world, worker, committed, settings):
    channel = business(meta, world, ChannelKind.MESSENGER)
    customer_id = customer_writes(meta, channel)
    worker(meta)
    first = contact_of(customer_id)
    link = on_metas_cdn(meta, settings, noise_jpeg(60), "image/jpeg")
    Contact.objects.filter(pk=first.pk).update(profile_checked_at=None)
    customer_writes(meta, channel, customer_id=customer_id, picture_url=link)

    with committed():
        tasks.contact_profiles_fetch.delay([first.pk])

    contact = contact_of(customer_id)
    assert (contact.profile_picture_url, contact.avatar_source) == (link, link)
    assert contact.avatar.name not in ("", first.avatar.name)
    assert not first.avatar.storage.exists(first.avatar.name)
    assert storage_files(settings) == ["avatar.jpg"]


def test_erasing_contacts_pictures_deletes_them_from_storage(world, channels, settings):
    kept = [give_avatar(make_conversation(channels["messenger"]).contact) for _ in range(2)]

    erased = avatars.contact_avatars_erase(contacts=Contact.objects.filter(pk=kept[0].pk))

    assert erased == 1
    assert storage_files(settings) == ["avatar.jpg"]
    assert Contact.objects.get(pk=kept[0].pk).avatar.name == ""
    assert Contact.objects.get(pk=kept[1].pk).avatar.name == kept[1].avatar.name
    assert avatars.contacts_avatar_due() == []


def test_a_contact_merged_into_another_leaves_no_picture_behind(channels, committed, settings):
    deliver(wa.text_phone_only("wamid.1"))
    deliver(wa.username_only_text("wamid.2"))
    gone = give_avatar(Contact.objects.get(external_id=wa.BSUID))
    assert storage_files(settings) == ["avatar.jpg"]

    with committed():
        deliver(wa.text_with_phone_and_bsuid("wamid.3"))

    assert not Contact.objects.filter(pk=gone.pk).exists()
    assert storage_files(settings) == []


# The demo.


@dataclass
class DemoMeta:
    sender: WebhookSender
    receiver: Receiver
    http: httpx.Client


@pytest.fixture
def demo_meta(settings) -> DemoMeta:
    """The simulator as the demo runs it: the demo's businesses and Meta app, on the
    demo's address, posting its webhooks to a stand-in endpoint."""
    for name, value in Command()._meta_settings(port=8000, simulator_port=8900).items():
        setattr(settings, name, value)
    settings.META_MEDIA_HOSTS = ["http://127.0.0.1:8900"]  # as the demo's environment has it
    state = SimulatorState(
        app_id=DEMO_APP["META_APP_ID"],
        app_secret=DEMO_APP["META_APP_SECRET"],
        instagram_app_id=DEMO_APP["META_INSTAGRAM_APP_ID"],
        instagram_app_secret=DEMO_APP["META_INSTAGRAM_APP_SECRET"],
    )
    state.load(demo.BUSINESSES)
    receiver = Receiver()
    sender = WebhookSender(
        target_url="http://127.0.0.1:8000/webhooks/meta/",
        app_secret=DEMO_APP["META_APP_SECRET"],
        instagram_app_secret=DEMO_APP["META_INSTAGRAM_APP_SECRET"],
        transport=httpx.WSGITransport(app=receiver),
        time_scale=0.001,
    )
    sim = MetaSimulator(state, sender, public_url="http://127.0.0.1:8900")
    transport = httpx.WSGITransport(app=sim)
    graph_client.use_transport(transport)
    with httpx.Client(transport=transport, base_url="http://127.0.0.1:8900") as http:
        yield DemoMeta(sender=sender, receiver=receiver, http=http)
    graph_client.use_transport(None)


def test_a_demo_customer_gets_their_picture_through_the_worker(client, demo_meta, worker):
    membership = demo.organization_seed()
    demo.channels_connect(membership=membership, dialog=demo_meta.http)
    sent = demo_meta.http.post(
        "/_sim/message", json={"kind": "messenger", "business_id": demo.PAGE_ID, "text": "Selam"}
    ).json()

    worker(demo_meta)

    contact = contact_of(sent["customer_id"])
    assert contact.profile_picture_url == (
        f"http://127.0.0.1:8900/_sim/pictures/{sent['customer_id']}.png"
    )
    client.force_login(membership.user)
    response = client.get(avatar_url(contact, slug=membership.organization.slug))
    assert response.status_code == 200
    assert image_of(b"".join(response.streaming_content)) == (
        "JPEG",
        (avatars.AVATAR_PIXELS, avatars.AVATAR_PIXELS),
    )


def _stamps(contact: Contact) -> tuple[str, str]:
    return live.stamps(
        organization_id=contact.organization_id,
        conversation_id=contact.conversations.get().pk,
    )


def test_open_pages_learn_of_a_customers_new_name_and_picture(meta, world, worker, committed):
    channel = business(meta, world, ChannelKind.MESSENGER)
    customer_id = customer_writes(meta, channel)
    worker(meta)
    contact = contact_of(customer_id)
    Contact.objects.filter(pk=contact.pk).update(profile_checked_at=None, name="")
    before_profile = _stamps(contact)

    with committed():
        tasks.contact_profiles_fetch.delay([contact.pk])
    after_profile = _stamps(contact)
    Contact.objects.filter(pk=contact.pk).update(avatar="", avatar_source="")
    with committed():
        tasks.contact_avatars_fetch.delay([contact.pk])

    assert contact_of(customer_id).name
    assert after_profile[0] != before_profile[0]
    assert after_profile[1] != before_profile[1]
    assert _stamps(contact) != after_profile

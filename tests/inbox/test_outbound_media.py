"""Staff send images and documents, through the reply service and the composer, to the
Meta simulator: what Meta receives (uploads, then Send API bodies; for Instagram a
signed link it fetches), what each channel refuses before anything is stored, the
signed links themselves, retries, and the files shown in the conversation."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.errors import RuleError
from channels_meta.models import ChannelKind
from inbox import tasks
from inbox.models import Attachment, Conversation, Direction, Message, MessageStatus
from inbox.services import delivery, outbound_media, replies
from tests.channels_meta.delivery import deliver
from tests.inbox.factories import make_attachment, make_message, png
from tests.inbox.test_delivery import (
    comment_thread,
    connect,
    customer_writes,
    delivery_waits_for_metas_rate_limit,
    wrote_ago,
)
from tests.inbox.test_media import ACTIVE_CONTENT, noise_png, stored_files

pytestmark = pytest.mark.django_db

VERSION = "/v25.0"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
CLOSED_WHATSAPP = (
    "The customer last wrote more than 24 hours ago: WhatsApp allows only an approved "
    "template until they write again."
)


@pytest.fixture(autouse=True)
def _eager(celery_eager):
    # A retried task runs again at once, as a worker would run it after its countdown.
    celery_eager.conf.task_eager_propagates = False
    yield celery_eager
    celery_eager.conf.task_eager_propagates = True


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://padu.example"


def upload(name: str = "menu.png", content: bytes | None = None, content_type: str = ""):
    content = png() if content is None else content
    return SimpleUploadedFile(name, content, content_type=content_type or "image/png")


@pytest.fixture
def send_file(world, committed):
    """Send a file as the agent; its delivery runs when the reply commits."""

    def send(conversation: Conversation, file=None, caption: str = "", **options) -> Message:
        with committed():
            message = replies.attachment_reply_send(
                membership=world.agent,
                conversation=conversation,
                upload=file or upload(),
                caption=caption,
                **options,
            )
        message.refresh_from_db()
        return message

    return send


def graph_calls(recording) -> list[tuple[str, str]]:
    return [(request.method, request.url.path) for request in recording.requests]


def attachment_of(message: Message) -> Attachment:
    return message.files.get()


# Each channel's image: Meta's exact calls.


def test_a_whatsapp_image_is_uploaded_then_sent_by_its_id_with_the_caption(
    world, meta, recording, send_file
):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    image = png(64, 48, "orange")

    message = send_file(conversation, upload("menu.png", image), caption=" Today's menu ")

    phone = channel.external_id
    assert graph_calls(recording) == [
        ("POST", f"{VERSION}/{phone}/media"),
        ("POST", f"{VERSION}/{phone}/messages"),
    ]
    upload_request = recording.requests[0]
    assert upload_request.headers["Content-Type"].startswith("multipart/form-data")
    assert upload_request.headers["Authorization"] == f"Bearer {channel.get_token()}"
    assert "access_token" not in str(upload_request.url)
    [received] = meta.state.sent
    media_id = received.body["image"]["id"]
    kept = meta.state.media[media_id]
    assert (kept.content, kept.mime_type, kept.business_id) == (image, "image/png", phone)
    assert received.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": conversation.contact.external_id,
        "type": "image",
        "image": {"id": media_id, "caption": "Today's menu"},
    }
    assert (message.status, message.external_id, message.text) == (
        MessageStatus.SENT,
        received.id,
        "Today's menu",
    )
    assert attachment_of(message).source == media_id


def test_a_whatsapp_document_goes_with_its_name(world, meta, send_file):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)

    message = send_file(
        conversation, upload("Fiyat Listesi 2026.pdf", PDF, "application/pdf"), caption="Prices"
    )

    [received] = meta.state.sent
    document = received.body["document"]
    assert received.body["type"] == "document"
    assert document == {
        "id": document["id"],
        "caption": "Prices",
        "filename": "Fiyat Listesi 2026.pdf",
    }
    assert meta.state.media[document["id"]].content == PDF
    assert message.status == MessageStatus.SENT
    stored = attachment_of(message)
    assert (stored.kind, stored.mime_type, stored.file_name) == (
        "document",
        "application/pdf",
        "Fiyat Listesi 2026.pdf",
    )


@pytest.mark.parametrize(
    ("wrote", "tagged"), [(timedelta(hours=1), False), (timedelta(days=3), True)]
)
def test_a_messenger_image_is_uploaded_then_sent_by_its_attachment_id(
    world, meta, recording, send_file, wrote, tagged
):
    channel = connect(world, meta, ChannelKind.MESSENGER, human_agent_enabled=True)
    conversation = customer_writes(meta, channel)
    wrote_ago(meta, conversation, wrote - timedelta(hours=1))
    image = png(30, 30, "navy")

    message = send_file(conversation, upload("logo.png", image))

    page = channel.external_id
    assert graph_calls(recording) == [
        ("POST", f"{VERSION}/{page}/message_attachments"),
        ("POST", f"{VERSION}/{page}/messages"),
    ]
    [received] = meta.state.sent
    attachment_id = received.body["message"]["attachment"]["payload"]["attachment_id"]
    assert meta.state.media[attachment_id].content == image
    expected = {
        "recipient": {"id": conversation.contact.external_id},
        "messaging_type": "MESSAGE_TAG" if tagged else "RESPONSE",
        "message": {"attachment": {"type": "image", "payload": {"attachment_id": attachment_id}}},
    }
    if tagged:
        expected["tag"] = "HUMAN_AGENT"
    assert received.body == expected
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)
    assert message.send_mode == ("human_agent" if tagged else "response")


def test_an_instagram_image_goes_by_a_signed_link_that_serves_that_file(
    world, meta, recording, send_file, client
):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = customer_writes(meta, channel)
    image = png(50, 40, "purple")

    message = send_file(conversation, upload("story.png", image))

    assert graph_calls(recording) == [("POST", f"{VERSION}/{channel.external_id}/messages")]
    [received] = meta.state.sent
    url = received.body["message"]["attachment"]["payload"]["url"]
    assert received.body == {
        "recipient": {"id": conversation.contact.external_id},
        "messaging_type": "RESPONSE",
        "message": {"attachment": {"type": "image", "payload": {"url": url}}},
    }
    assert re.fullmatch(r"https://padu\.example/media/signed/[^/]+/", url)
    assert message.status == MessageStatus.SENT
    # Meta fetches the link, signed in to nothing.
    fetched = client.get(urlsplit(url).path)
    assert fetched.status_code == 200
    assert b"".join(fetched.streaming_content) == image
    assert fetched["Content-Type"] == "image/png"
    assert fetched["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("kind", [ChannelKind.MESSENGER, ChannelKind.INSTAGRAM])
def test_a_caption_goes_as_a_text_after_the_file_where_meta_takes_none(
    world, meta, send_file, kind
):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)

    message = send_file(conversation, caption="Our new menu")

    file_sent, caption_sent = meta.state.sent
    assert "attachment" in file_sent.body["message"]
    assert caption_sent.body["message"] == {"text": "Our new menu"}
    caption = Message.objects.exclude(pk=message.pk).get()
    assert (message.text, message.status, message.external_id) == ("", "sent", file_sent.id)
    assert (caption.text, caption.status, caption.external_id) == (
        "Our new menu",
        "sent",
        caption_sent.id,
    )
    assert list(conversation.messages.values_list("pk", flat=True)) == [message.pk, caption.pk]


def test_metas_echoes_of_a_file_and_its_caption_add_no_messages(world, meta, send_file):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    send_file(conversation, caption="Our new menu")
    meta.sender.flush_all()

    for body in meta.receiver.bodies:
        deliver(body)

    sent = conversation.messages.filter(direction=Direction.OUTBOUND)
    assert sent.count() == 2
    assert set(sent.values_list("status", flat=True)) <= {"delivered", "read"}


def test_the_caption_of_a_file_meta_refused_fails_with_it(world, meta, send_file):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    # Meta's clock says two days; Padu still thinks the customer wrote an hour ago.
    meta.state.last_inbound[(channel.external_id, conversation.contact.external_id)] -= 2 * 86400

    message = send_file(conversation, caption="Our new menu")

    caption = Message.objects.exclude(pk=message.pk).get()
    assert message.status == caption.status == MessageStatus.FAILED
    assert message.error_reason == "Meta refused it: the customer's messaging window had closed."
    assert caption.error_reason == "Not sent, because the file it goes with was not sent."
    assert meta.state.sent == []


# Refused before anything is stored.


def _refused(world, conversation, file, **options) -> str:
    with pytest.raises(RuleError) as refusal:
        replies.attachment_reply_send(
            membership=world.agent, conversation=conversation, upload=file, **options
        )
    assert not Message.objects.filter(direction=Direction.OUTBOUND).exists()
    assert not Attachment.objects.exists()
    assert stored_files() == []
    return str(refusal.value)


def _pdf(megabytes: float) -> bytes:
    return PDF + b" " * int(megabytes * 1024 * 1024)


def _uncompressed_png(megabytes: float) -> bytes:
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    output = io.BytesIO()
    Image.new("RGB", (side, side), "white").save(output, "PNG", compress_level=0)
    return output.getvalue()


@pytest.mark.parametrize(
    ("kind", "name", "content", "refusal"),
    [
        (
            "whatsapp",
            "photo.png",
            lambda: _uncompressed_png(5.1),
            "WhatsApp takes images up to 5 MB; this one is 5.2 MB.",
        ),
        (
            "instagram",
            "photo.png",
            lambda: _uncompressed_png(8.1),
            "Instagram takes images up to 8 MB; this one is 8.2 MB.",
        ),
        (
            "messenger",
            "catalogue.pdf",
            lambda: _pdf(25.2),
            "Messenger takes documents up to 25 MB; this one is 25.3 MB.",
        ),
    ],
)
def test_a_file_too_large_for_the_channel_is_refused_and_nothing_is_stored(
    world, meta, kind, name, content, refusal
):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)

    assert _refused(world, conversation, upload(name, content())) == refusal


def _gif() -> bytes:
    output = io.BytesIO()
    Image.new("P", (4, 4)).save(output, "GIF")
    return output.getvalue()


@pytest.mark.parametrize(
    ("kind", "name", "content", "refusal"),
    [
        (
            "instagram",
            "prices.pdf",
            lambda: PDF,
            "Instagram does not take PDF files from Padu. It takes images (JPEG, PNG) up to 8 MB.",
        ),
        (
            "whatsapp",
            "hello.gif",
            _gif,
            "WhatsApp does not take GIF files from Padu. It takes images (JPEG, PNG) up to "
            "5 MB; documents (PDF, Word, Excel, PowerPoint, plain text) up to 100 MB.",
        ),
        (
            "messenger",
            "clip.mp4",
            lambda: b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40),
            "Messenger does not take MP4 files from Padu. It takes images (JPEG, PNG, GIF) "
            "up to 25 MB; documents (PDF, Word, Excel, PowerPoint, OpenDocument, plain "
            "text, CSV) up to 25 MB.",
        ),
    ],
)
def test_a_type_the_channel_does_not_take_is_refused(world, meta, kind, name, content, refusal):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)

    assert _refused(world, conversation, upload(name, content())) == refusal


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", b"MZ\x90\x00" + bytes(200)),
        ("notes.txt", b"<html><script>alert(1)</script></html>"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
    ],
)
def test_a_program_or_web_page_is_refused_whatever_it_is_called(world, meta, name, content):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)

    assert _refused(world, conversation, upload(name, content)) == ACTIVE_CONTENT


def test_a_file_outside_whatsapps_window_is_refused_only_templates_may_go(world, meta):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    wrote_ago(meta, conversation, timedelta(hours=25))

    assert _refused(world, conversation, upload()) == CLOSED_WHATSAPP


def test_a_file_after_messengers_window_without_human_agent_replies_is_refused(world, meta):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    wrote_ago(meta, conversation, timedelta(days=2))

    assert _refused(world, conversation, upload()).startswith(
        "The customer last wrote more than 24 hours ago."
    )


@pytest.mark.parametrize("mode", ["", "public", "private"])
def test_a_reply_to_a_comment_takes_no_file(world, meta, mode):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = comment_thread(meta, channel)

    refusal = _refused(world, conversation, upload(), mode=mode)

    assert refusal == "Replies to comments cannot carry files: answer in words."
    conversation.refresh_from_db()
    assert conversation.private_reply_at is None


def test_a_whatsapp_caption_longer_than_whatsapp_takes_is_refused(world, meta):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)

    refusal = _refused(world, conversation, upload(), caption="x" * 1025)

    assert refusal == "This channel takes at most 1024 characters; the message has 1025."


# Stored like customers' files, shown in the conversation.


def test_a_sent_file_is_stored_under_an_unguessable_name_with_a_thumbnail(world, meta, send_file):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)

    first, second = (send_file(conversation, upload("../../etc/Menü.png")) for _ in range(2))

    stored = [attachment_of(message) for message in (first, second)]
    folders = [attachment.file.name.split("/") for attachment in stored]
    assert all(folder[0] == str(world.org.pk) for folder in folders)
    assert folders[0][1] != folders[1][1]
    assert all(len(folder[1]) >= 24 for folder in folders)
    assert all(folder[2] == "menu.png" for folder in folders)
    assert stored[0].file_name == "Menü.png"
    assert stored[0].thumbnail
    assert first.attachments == [
        {"type": "image", "filename": "Menü.png", "mime_type": "image/png"}
    ]


def test_the_conversation_shows_a_sent_image_and_a_sent_document(world, meta, send_file, client):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    image = attachment_of(send_file(conversation, caption="The menu"))
    document = attachment_of(send_file(conversation, upload("Prices.pdf", PDF, "application/pdf")))
    client.force_login(world.agent.user)

    page = client.get(reverse("conversation", args=[world.org.slug, conversation.pk]))

    html = page.content.decode()
    slug = world.org.slug
    assert reverse("attachment_thumbnail", args=[slug, image.pk]) in html
    assert 'alt="Image sent to the customer"' in html
    assert "The menu" in html
    assert f'href="{reverse("attachment", args=[slug, document.pk])}"' in html
    assert "Prices.pdf" in html


# Signed links.


@pytest.fixture
def sent_file(world, meta, send_file) -> Attachment:
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    return attachment_of(send_file(customer_writes(meta, channel)))


def _path(url: str) -> str:
    return urlsplit(url).path


def test_a_signed_link_serves_its_file_to_anyone_for_an_hour(client, sent_file, monkeypatch):
    url = outbound_media.signed_url(sent_file)
    signed_at = signing.time.time()

    monkeypatch.setattr(signing.time, "time", lambda: signed_at + 59 * 60)
    response = client.get(_path(url))
    assert response.status_code == 200
    assert {"private", "no-store"} <= set(response["Cache-Control"].replace(" ", "").split(","))

    monkeypatch.setattr(signing.time, "time", lambda: signed_at + 61 * 60)
    assert client.get(_path(url)).status_code == 404


def test_a_link_altered_in_any_part_is_404(client, sent_file):
    token = _path(outbound_media.signed_url(sent_file)).split("/")[3]
    value, stamp, signature = token.split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    other = make_message(sent_file.message.conversation, direction=Direction.OUTBOUND)
    other_file = make_attachment(other)

    for altered in (
        f"{value}:{stamp}:{flipped}",
        f"{other_file.pk}:{stamp}:{signature}",
        f"{value}:{stamp}",
        "nothing",
    ):
        assert client.get(reverse("outbound_file", args=[altered])).status_code == 404


def test_a_link_signed_for_another_purpose_opens_nothing(client, sent_file):
    for token in (
        signing.TimestampSigner().sign(str(sent_file.pk)),
        signing.TimestampSigner(salt="padu.other").sign(str(sent_file.pk)),
        signing.dumps(sent_file.pk, salt=outbound_media.SIGNED_LINK_SALT),
    ):
        assert client.get(reverse("outbound_file", args=[token])).status_code == 404


def test_a_customers_file_is_never_served_through_a_signed_link(world, client, sent_file):
    inbound = make_message(sent_file.message.conversation, text="Here is my receipt")
    customers_file = make_attachment(inbound)
    client.force_login(world.owner.user)

    url = outbound_media.signed_url(customers_file)

    assert client.get(_path(url)).status_code == 404


def test_a_signed_link_to_a_file_no_longer_kept_is_404(client, sent_file):
    url = outbound_media.signed_url(sent_file)
    sent_file.message.delete()

    assert client.get(_path(url)).status_code == 404


# Retries.


@pytest.mark.parametrize("kind", [ChannelKind.WHATSAPP, ChannelKind.MESSENGER])
def test_a_rate_limited_file_waits_and_is_uploaded_once(
    world, meta, recording, django_capture_on_commit_callbacks, kind
):
    channel = connect(world, meta, kind)
    conversation = customer_writes(meta, channel)
    with django_capture_on_commit_callbacks():  # the delivery is left to this test
        message = replies.attachment_reply_send(
            membership=world.agent, conversation=conversation, upload=upload()
        )

    delivery_waits_for_metas_rate_limit(meta, channel, message)

    assert tasks.message_deliver.delay(message.pk).get() == "sent"
    uploads = [path for _method, path in graph_calls(recording) if not path.endswith("/messages")]
    assert len(uploads) == 1
    assert len(meta.state.sent) == 1


def test_meta_briefly_down_during_the_upload_is_retried_until_the_file_goes(world, meta, send_file):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    meta.http.post("/_sim/outage", json={"calls": 2})

    message = send_file(conversation)

    assert message.status == MessageStatus.SENT
    assert len(meta.state.sent) == 1


def test_a_caption_whose_delivery_was_lost_is_sent_by_the_sweeper(
    world, meta, django_capture_on_commit_callbacks
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    with django_capture_on_commit_callbacks():
        message = replies.attachment_reply_send(
            membership=world.agent, conversation=conversation, upload=upload(), caption="Hi"
        )
    delivery.message_deliver(message_id=message.pk)  # the file, but not what follows it

    tasks.deliveries_interrupted_fail.delay().get()

    assert set(conversation.messages.values_list("status", flat=True)) == {"sent"}
    assert [sent.body["message"].get("text") for sent in meta.state.sent] == [None, "Hi"]


# The composer.


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_composer_sends_a_file_with_and_without_htmx(world, meta, client, committed, htmx):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    client.force_login(world.agent.user)
    url = reverse("conversation_reply", args=[world.org.slug, conversation.pk])
    data = {"text": "The menu", "mode": "", "file": upload("menu.png")}

    with committed():
        if htmx:
            response = client.post(url, data, headers={"HX-Request": "true"})
        else:
            response = client.post(url, data, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert ("<html" in html) is not htmx
    [message] = conversation.messages.filter(direction=Direction.OUTBOUND)
    assert (message.text, message.status) == ("The menu", MessageStatus.SENT)
    assert reverse("attachment_thumbnail", args=[world.org.slug, attachment_of(message).pk]) in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_the_composer_shows_a_refused_file_in_words(world, meta, client, htmx):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = customer_writes(meta, channel)
    client.force_login(world.agent.user)
    url = reverse("conversation_reply", args=[world.org.slug, conversation.pk])
    data = {"text": "", "mode": "", "file": upload("prices.pdf", PDF, "application/pdf")}

    if htmx:
        response = client.post(url, data, headers={"HX-Request": "true"})
    else:
        response = client.post(url, data, follow=True)

    assert "Instagram does not take PDF files from Padu." in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_composer_offers_the_files_the_channel_takes(world, meta, client):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = customer_writes(meta, channel)
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content
    html = html.decode()

    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/jpeg,.jpg,.jpeg,image/png,.png"' in html
    assert "You can send images (JPEG, PNG) up to 8 MB." in html


def test_a_comment_thread_offers_no_file(world, meta, client):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = comment_thread(meta, channel)
    client.force_login(world.agent.user)

    html = client.get(reverse("conversation", args=[world.org.slug, conversation.pk])).content

    assert b'type="file"' not in html


def test_another_organisations_member_cannot_send_a_file_into_a_conversation(world, meta, client):
    channel = connect(world, meta, ChannelKind.WHATSAPP)
    conversation = customer_writes(meta, channel)
    client.force_login(world.outsider.user)

    for slug in (world.org.slug, world.other_org.slug):
        url = reverse("conversation_reply", args=[slug, conversation.pk])
        assert client.post(url, {"file": upload(), "text": "Hi"}).status_code == 404

    assert not Attachment.objects.exists()
    assert meta.state.sent == []


# Meta's own rules, in the simulator.


def test_meta_refuses_an_upload_over_its_limit_or_of_a_type_it_does_not_take(meta):
    number = meta.assets["whatsapp_numbers"][0]
    headers = {"Authorization": f"Bearer {number['system_token']}"}

    def uploaded(content: bytes, mime_type: str) -> dict:
        return meta.http.post(
            f"/v25.0/{number['id']}/media",
            headers=headers,
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": ("file", content, mime_type)},
        ).json()

    assert uploaded(noise_png(1400), "image/png")["error"]["code"] == 131053
    assert uploaded(_gif(), "image/gif")["error"]["code"] == 100
    assert uploaded(png(), "image/png")["id"].isdigit()


def test_instagram_at_meta_takes_no_file_attachments(world, meta):
    channel = connect(world, meta, ChannelKind.INSTAGRAM)
    conversation = customer_writes(meta, channel)

    answer = meta.http.post(
        f"/v25.0/{channel.external_id}/messages",
        headers={"Authorization": f"Bearer {channel.get_token()}"},
        json={
            "recipient": {"id": conversation.contact.external_id},
            "message": {
                "attachment": {"type": "file", "payload": {"url": "https://padu.example/x/"}}
            },
        },
    ).json()

    assert answer["error"]["code"] == 100
    assert meta.state.sent == []


def test_a_file_sent_again_after_meta_refused_it_is_uploaded_again(
    world, meta, recording, send_file, committed
):
    channel = connect(world, meta, ChannelKind.MESSENGER)
    conversation = customer_writes(meta, channel)
    customer = conversation.contact.external_id
    meta.state.last_inbound[(channel.external_id, customer)] -= 2 * 86400
    message = send_file(conversation)
    assert message.status == MessageStatus.FAILED
    meta.customer_writes(
        kind="messenger", business_id=channel.external_id, customer_id=customer, text="Hello?"
    )

    with committed():
        replies.message_retry(membership=world.agent, message=message)

    message.refresh_from_db()
    [received] = meta.state.sent
    assert (message.status, message.external_id) == (MessageStatus.SENT, received.id)
    uploads = [path for _method, path in graph_calls(recording) if "attachments" in path]
    assert len(uploads) == 2
    assert received.body["message"]["attachment"]["payload"] == {
        "attachment_id": attachment_of(message).source
    }

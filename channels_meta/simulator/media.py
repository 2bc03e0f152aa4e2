"""Files customers send, kept by the simulated Meta and served the way Meta serves them:
WhatsApp media through `GET /<media-id>` (which answers a URL that lives minutes) and
then that URL, only with a token for the number it was sent to; Messenger and Instagram
attachments as signed CDN links that expire. Both are on the simulator's own address.

Not kept across restarts (see persistence.py): a restarted Meta has lost older media,
as Meta loses media after a while.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from PIL import Image, ImageDraw

from channels_meta.simulator.edges import token_for_asset
from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok

if TYPE_CHECKING:
    from channels_meta.simulator.state import SimulatorState

# Meta's CDN links for Messenger and Instagram attachments stop working after some days;
# a WhatsApp media URL after five minutes (the media id lasts 30 days).
CDN_LINK_SECONDS = 3 * 24 * 60 * 60
WHATSAPP_URL_SECONDS = 5 * 60
WHATSAPP_MEDIA_SECONDS = 30 * 24 * 60 * 60
MEDIA_KEPT = 1000
# What customers send when a test or the traffic asks for no particular file.
SAMPLE_FILES = {
    "audio": ("audio/ogg", b"OggS\x00\x02" + bytes(58)),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(40)),
    "document": ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
    "file": ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "audio/ogg": "ogg",
    "video/mp4": "mp4",
    "application/pdf": "pdf",
}


@dataclass
class Media:
    id: str
    business_id: str  # the Page, Instagram account or WhatsApp number it was sent to
    mime_type: str
    content: bytes
    filename: str
    created_at: float
    expired: bool = False  # Meta no longer has it (`/_sim/expire_media`)
    uploaded_as: str = ""  # a business's upload: the type it was uploaded as


def sample_image(random, image_format: str = "JPEG") -> bytes:
    """A small picture a customer might send: a sky, a sun and a hill, in random colours."""

    def colour() -> tuple[int, int, int]:
        return (random.randrange(256), random.randrange(256), random.randrange(256))

    image = Image.new("RGB", (96, 64), colour())
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 8, 84, 32), fill=colour())
    draw.polygon([(0, 64), (40, 30), (96, 64)], fill=colour())
    output = io.BytesIO()
    image.save(output, image_format)
    return output.getvalue()


def media_store(state: SimulatorState, business_id: str, media_type: str, body: dict) -> Media:
    """Keep a file a customer sends: `media_content` (base64) with `media_mime_type`, or
    a sample of `media_type` (a picture for images and stickers)."""
    if body.get("media_content"):
        try:
            content = base64.b64decode(body["media_content"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise invalid_parameter("media_content must be base64.") from None
        mime_type = str(body.get("media_mime_type") or "application/octet-stream")
    elif media_type in ("image", "sticker"):
        image_format = "WEBP" if media_type == "sticker" else "JPEG"
        content = sample_image(state.random, image_format)
        mime_type = f"image/{image_format.lower()}"
    else:
        mime_type, content = SAMPLE_FILES.get(media_type, SAMPLE_FILES["document"])
    media_id = state.new_id(16)
    extension = EXTENSIONS.get(mime_type, "bin")
    filename = str(body.get("media_filename") or f"{media_type}-{media_id}.{extension}")
    media = Media(media_id, business_id, mime_type, content, filename, state.clock())
    with state.lock:
        state.media[media_id] = media
        for old in list(state.media)[:-MEDIA_KEPT]:
            del state.media[old]
    return media


def _signature(state: SimulatorState, *parts: str) -> str:
    message = "/".join(parts).encode()
    return hmac.new(state.app_secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def cdn_link(state: SimulatorState, base_url: str, media: Media) -> str:
    """A Messenger or Instagram attachment link, signed, expiring (`oe`, hex seconds)."""
    expires = format(int(media.created_at + CDN_LINK_SECONDS), "x")
    name = quote(media.filename)
    return (
        f"{base_url}/cdn/{media.id}/{name}?oh={_signature(state, media.id, expires)}&oe={expires}"
    )


def _file(media: Media) -> Response:
    return Response(200, media.content, content_type=media.mime_type)


def cdn_file(state: SimulatorState, request: Request, media_id: str, _name: str) -> Response:
    """An attachment's CDN link: the file, without a token; 403 once the link expired or
    when its signature is wrong, 404 for a file Meta does not have."""
    media = state.media.get(media_id)
    if media is None:
        return Response(404, b"Not Found", content_type="text/plain")
    expires = request.query.get("oe", "")
    good = hmac.compare_digest(request.query.get("oh", ""), _signature(state, media_id, expires))
    try:
        live = int(expires, 16) > state.clock() and not media.expired
    except ValueError:
        live = False
    if not good:
        return Response(403, b"Bad URL hash", content_type="text/plain")
    if not live:
        return Response(403, b"URL signature expired", content_type="text/plain")
    return _file(media)


def _whatsapp_media_of(state: SimulatorState, media_id: str) -> Media:
    media = state.media.get(media_id)
    if media is None or media.expired or media.created_at + WHATSAPP_MEDIA_SECONDS <= state.clock():
        raise GraphFault(
            100,
            f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
        )
    return media


def whatsapp_media(
    state: SimulatorState, request: Request, media_id: str, *, base_url: str
) -> Response:
    """`GET /<media-id>`: where the file is for the next few minutes (on `base_url`, the
    simulator's own address), for a token of the number it was sent to (and only that
    number, when `phone_number_id` names one)."""
    media = _whatsapp_media_of(state, media_id)
    token_for_asset(state, request, media.business_id)
    asked_for = request.query.get("phone_number_id")
    if asked_for and asked_for != media.business_id:
        raise invalid_parameter("(#100) The media was not sent to this phone number.")
    expires = str(int(state.clock() + WHATSAPP_URL_SECONDS))
    url = (
        f"{base_url}/whatsapp_business/attachments/?mid={media.id}"
        f"&ext={expires}&hash={_signature(state, media.id, expires)}"
    )
    return ok(
        {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": media.mime_type,
            "sha256": hashlib.sha256(media.content).hexdigest(),
            "file_size": len(media.content),
            "id": media.id,
        }
    )


def whatsapp_media_download(state: SimulatorState, request: Request) -> Response:
    """The URL `GET /<media-id>` answered: the file, only with a token for its number."""
    media_id, expires = request.query.get("mid", ""), request.query.get("ext", "")
    media = _whatsapp_media_of(state, media_id)
    if not request.token:
        raise GraphFault(190, "An access token is required to request this resource.", status=401)
    token_for_asset(state, request, media.business_id)
    signed = hmac.compare_digest(
        request.query.get("hash", ""), _signature(state, media_id, expires)
    )
    if not signed or not expires.isdigit() or int(expires) <= state.clock():
        return Response(404, b"Not Found", content_type="text/plain")
    return _file(media)

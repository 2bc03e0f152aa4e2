"""Files businesses send, as Meta takes them: uploaded first (WhatsApp's
`POST /<phone-number-id>/media`, Messenger's `POST /<page-id>/message_attachments`,
both multipart) and then sent by the id Meta answered, or (Messenger and Instagram) by a
link Meta fetches. Meta's types and size limits are enforced; uploads are kept with the
media customers sent (`state.media`), so a business's file has a CDN link too.

The simulator does not fetch the links it is given: it records them in `state.sent`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from channels_meta.simulator.edges import token_for_asset
from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.media import MEDIA_KEPT, Media, cdn_link

if TYPE_CHECKING:
    from channels_meta.simulator.state import SimulatorState

MB = 1024 * 1024
# WhatsApp Cloud API's supported media: each type, the message type it is sent as, and
# its size at most.
WHATSAPP_DOCUMENTS = (
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
WHATSAPP_MEDIA = {
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 500 * 1024),
    **dict.fromkeys(
        ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), ("audio", 16 * MB)
    ),
    **dict.fromkeys(("video/mp4", "video/3gpp"), ("video", 16 * MB)),
    **dict.fromkeys(WHATSAPP_DOCUMENTS, ("document", 100 * MB)),
}
WHATSAPP_CAPTION_LENGTH = 1024
# Messenger's attachments: any of these types, up to 25 MB. Instagram's Send API takes
# images, audio and video, not files.
MESSENGER_TYPES = ("image", "audio", "video", "file")
MESSENGER_MAX_BYTES = 25 * MB
INSTAGRAM_TYPES = ("image", "audio", "video")


def _keep(state: SimulatorState, business_id: str, part, mime_type: str, kind: str) -> Media:
    with state.lock:
        media = Media(
            state.new_id(16),
            business_id,
            mime_type,
            part.content,
            part.filename or "file",
            state.clock(),
            uploaded_as=kind,
        )
        state.media[media.id] = media
        for old in list(state.media)[:-MEDIA_KEPT]:
            del state.media[old]
    return media


def whatsapp_upload(state: SimulatorState, request: Request, phone_id: str) -> Response:
    """`POST /<phone-number-id>/media`: a file of one of WhatsApp's types (`type`),
    within its size limit; answers the media id."""
    token_for_asset(state, request, phone_id)
    if phone_id not in state.phone_numbers:
        raise invalid_parameter(f"(#100) Object with ID '{phone_id}' cannot take media.")
    if request.param("messaging_product") != "whatsapp":
        raise invalid_parameter("(#100) The parameter messaging_product is required.")
    part = request.files.get("file")
    if part is None:
        raise invalid_parameter("(#100) The parameter file is required.")
    mime_type = request.param("type") or part.content_type
    if mime_type not in WHATSAPP_MEDIA:
        raise invalid_parameter(
            "(#100) Param file must be a file with one of the following types: "
            f"{', '.join(WHATSAPP_MEDIA)}. Received file of type '{mime_type}'."
        )
    kind, limit = WHATSAPP_MEDIA[mime_type]
    if len(part.content) > limit:
        raise GraphFault(
            131053, f"(#131053) Media upload error: {kind} files are at most {limit} bytes."
        )
    return ok({"id": _keep(state, phone_id, part, mime_type, kind).id})


def attachment_upload(state: SimulatorState, request: Request, page_id: str) -> Response:
    """`POST /<page-id>/message_attachments`: a file (`filedata`) of the type
    `message.attachment.type` names, up to 25 MB; answers the attachment id."""
    token_for_asset(state, request, page_id)
    if page_id not in state.pages:
        raise invalid_parameter(f"(#100) Object with ID '{page_id}' cannot take attachments.")
    try:
        message = json.loads(request.param("message") or "{}")
        kind = message["attachment"]["type"]
    except (ValueError, KeyError, TypeError):
        raise invalid_parameter("(#100) Param message[attachment][type] is required.") from None
    if kind not in MESSENGER_TYPES:
        raise invalid_parameter(
            f"(#100) Param message[attachment][type] must be one of {MESSENGER_TYPES}."
        )
    part = request.files.get("filedata")
    if part is None:
        raise invalid_parameter("(#100) Upload attachment failure: filedata is required.")
    if len(part.content) > MESSENGER_MAX_BYTES:
        raise invalid_parameter("(#100) Upload attachment failure: the file is larger than 25 MB.")
    if kind == "image" and not part.content_type.startswith("image/"):
        raise invalid_parameter("(#100) Upload attachment failure: the file is not an image.")
    return ok({"attachment_id": _keep(state, page_id, part, part.content_type, kind).id})


def _uploaded(state: SimulatorState, business_id: str, media_id: object) -> Media:
    media = state.media.get(str(media_id))
    if media is None or media.business_id != business_id or media.expired:
        raise invalid_parameter(f"(#100) Param attachment id '{media_id}' is not valid.")
    return media


def attachment_checked(
    state: SimulatorState, kind: str, business_id: str, attachment: object, *, base_url: str
) -> dict:
    """A Messenger or Instagram `message.attachment`, checked as Meta does: a type the
    channel takes, and an uploaded file of the account's (`attachment_id`) or an http(s)
    link. Returns the attachment as the echo carries it."""
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        raise invalid_parameter("(#100) Param message[attachment] must be an object.")
    kind_of = attachment.get("type")
    allowed = INSTAGRAM_TYPES if kind == "instagram" else MESSENGER_TYPES
    if kind_of not in allowed:
        raise invalid_parameter(f"(#100) Param message[attachment][type] must be one of {allowed}.")
    payload = attachment["payload"]
    if payload.get("attachment_id"):
        media = _uploaded(state, business_id, payload["attachment_id"])
        if media.uploaded_as != kind_of:
            raise invalid_parameter("(#100) The attachment was uploaded as another type.")
        return {"type": kind_of, "payload": {"url": cdn_link(state, base_url, media)}}
    url = str(payload.get("url") or "")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise invalid_parameter("(#100) Param message[attachment][payload][url] must be a URL.")
    return {"type": kind_of, "payload": {"url": url}}


def whatsapp_media_checked(state: SimulatorState, phone_id: str, kind: str, body: dict) -> None:
    """A WhatsApp media message (`image`, `document`, …), checked as Meta does: a file
    uploaded to this number, or a link; the uploaded file's type fits the message type;
    a caption of at most 1024 characters; a file name only on documents."""
    media = body.get(kind)
    if not isinstance(media, dict) or bool(media.get("id")) == bool(media.get("link")):
        raise invalid_parameter(f"(#100) Param {kind} must have either id or link.")
    if media.get("id"):
        uploaded = _uploaded(state, phone_id, media["id"])
        if WHATSAPP_MEDIA.get(uploaded.mime_type, ("",))[0] != kind:
            raise invalid_parameter(f"(#100) The media is not of type {kind}.")
    if len(str(media.get("caption") or "")) > WHATSAPP_CAPTION_LENGTH:
        raise invalid_parameter(
            f"(#100) Param {kind}['caption'] must be at most {WHATSAPP_CAPTION_LENGTH} characters."
        )
    if "filename" in media and kind != "document":
        raise invalid_parameter(f"(#100) Param {kind}['filename'] is not allowed.")

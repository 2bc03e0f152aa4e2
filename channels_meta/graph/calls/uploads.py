"""Files staff send: given to Meta (Messenger's Attachment Upload API, WhatsApp's media
endpoint), then sent by the id Meta gave them (or, for Messenger and Instagram, by a
link Meta fetches)."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import node_path
from channels_meta.graph.calls.sending import Sent, account_message_send, whatsapp_send
from channels_meta.graph.client import client
from channels_meta.graph.errors import PermanentError, UnsafeRequest
from channels_meta.graph.ids import node_id


def _uploaded_id(value: object) -> str:
    """The id Meta gave an uploaded file, checked (Meta's ids are digits)."""
    try:
        return node_id(value)
    except UnsafeRequest:
        raise PermanentError("Meta's answer to the upload carried no usable id.") from None


@sensitive_variables("token")
def _file_upload(
    path: str, *, token: str, form: dict[str, str], field: str, upload: tuple[str, BinaryIO, str]
) -> dict[str, Any]:
    """Post a file, `upload` (its name, the file, its type), as the multipart `field`."""
    return client().post(path, token=token, form=form, files={field: upload})


@sensitive_variables("token")
def message_attachment_upload(
    *, page_id: str, token: str, attachment_type: str, file: BinaryIO, filename: str, mime_type: str
) -> str:
    """Give Meta a file to send from a Page (Messenger's Attachment Upload API, `image`
    or `file`); returns its attachment id."""
    attachment = {"attachment": {"type": attachment_type, "payload": {"is_reusable": True}}}
    answer = _file_upload(
        node_path(page_id, "message_attachments"),
        token=token,
        form={"message": json.dumps(attachment)},
        field="filedata",
        upload=(filename, file, mime_type),
    )
    return _uploaded_id(answer.get("attachment_id"))


@sensitive_variables("token")
def message_attachment_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    attachment_type: str,
    attachment_id: str = "",
    url: str = "",
    instagram_login: bool = False,
    tag: str = "",
) -> Sent:
    """Send a file from a Page or an Instagram account to a person: one uploaded to Meta
    (`attachment_id`) or one Meta fetches from `url`. Same windows and tag as a text."""
    payload = {"attachment_id": node_id(attachment_id)} if attachment_id else {"url": url}
    return account_message_send(
        kind=kind,
        account_id=account_id,
        token=token,
        recipient_id=recipient_id,
        message={"attachment": {"type": attachment_type, "payload": payload}},
        instagram_login=instagram_login,
        tag=tag,
    )


@sensitive_variables("token")
def whatsapp_media_upload(
    *, phone_number_id: str, token: str, file: BinaryIO, filename: str, mime_type: str
) -> str:
    """Give WhatsApp a file to send from a number (`POST /{phone-number-id}/media`);
    returns its media id (kept by Meta for 30 days)."""
    answer = _file_upload(
        node_path(phone_number_id, "media"),
        token=token,
        form={"messaging_product": "whatsapp", "type": mime_type},
        field="file",
        upload=(filename, file, mime_type),
    )
    return _uploaded_id(answer.get("id"))


@sensitive_variables("token")
def whatsapp_media_send(
    *,
    phone_number_id: str,
    token: str,
    to: str,
    media_type: str,
    media_id: str,
    caption: str = "",
    filename: str = "",
) -> Sent:
    """Send an uploaded image or document from a WhatsApp number (within 24 hours of
    the customer's last message), with its caption, and a document with its name."""
    media: dict[str, Any] = {"id": node_id(media_id)}
    if caption:
        media["caption"] = caption
    if filename and media_type == "document":
        media["filename"] = filename
    return whatsapp_send(
        phone_number_id=phone_number_id,
        token=token,
        to=to,
        content={"type": media_type, media_type: media},
    )

"""Files customers send: where WhatsApp keeps one, and the download from Meta's media
hosts (`media_url_allowed` says which links Padu may follow)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import node_path
from channels_meta.graph.client import Downloaded, client
from channels_meta.graph.hosts import media_url_allowed as media_url_allowed
from channels_meta.graph.ids import node_id, picture_url


@dataclass(frozen=True)
class MediaInfo:
    """Where WhatsApp keeps a media file for a few minutes, and what Meta says it is."""

    url: str
    mime_type: str
    size: int | None


@sensitive_variables("token")
def whatsapp_media_get(*, media_id: str, phone_number_id: str, token: str) -> MediaInfo:
    """The short-lived URL of a media file a customer sent to a WhatsApp number (only if
    it was sent to that number), with its type and size."""
    answer = client().get(
        node_path(media_id), token=token, params={"phone_number_id": node_id(phone_number_id)}
    )
    size = answer.get("file_size")
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    return MediaInfo(
        url=str(answer.get("url") or ""),
        mime_type=str(answer.get("mime_type") or "")[:100],
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


@sensitive_variables("token")
def media_download(*, url: str, into: BinaryIO, max_bytes: int, token: str = "") -> Downloaded:
    """Stream an attachment from Meta's media hosts into `into`, at most `max_bytes`
    (MediaTooLarge beyond). WhatsApp's media URLs need the channel's token; Messenger's
    and Instagram's CDN links are signed and get none."""
    return client().download(url, into=into, max_bytes=max_bytes, token=token or None)


def profile_picture_download(*, url: str, into: BinaryIO, max_bytes: int) -> Downloaded:
    """Stream a customer's profile picture into `into`, at most `max_bytes`
    (MediaTooLarge beyond), from the hosts Meta serves pictures from (`ids.picture_url`),
    redirects included. No token goes with it: Meta's picture links are signed."""
    return client().download(
        url, into=into, max_bytes=max_bytes, allowed=lambda link: bool(picture_url(link))
    )

"""Attachments and customers' pictures, served to the organisation's members only; and
the files staff send to Instagram, served to whoever holds a signed link for the hour
Meta needs to fetch them.

A file is sent as what its content was found to be, under a safe name: images, video and
audio inline, anything else as a download, never sniffed into something else by the
browser, sandboxed if opened on its own, and kept by no shared cache. A member's browser
may keep a file for an hour (a stored file never changes under its address; a new
picture gets a new one), so that the inbox's live refreshes do not fetch every image
again; a signed link Meta fetches is kept by no one.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from accounts.tenancy import get_for_member, tenant_view
from inbox.models import Attachment, AttachmentStatus, Contact
from inbox.services import outbound_media

INLINE_TYPES = ("image/", "video/", "audio/")


MEMBERS_KEEP_FILES_FOR = 3600  # seconds


def stored_file_response(
    stored_file, *, content_type: str, filename: str, keep_for: int = MEMBERS_KEEP_FILES_FOR
) -> FileResponse:
    try:
        handle = stored_file.open("rb")
    except OSError:
        raise Http404 from None
    inline = content_type.startswith(INLINE_TYPES)
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"  # kept only when it read as UTF-8
    response = FileResponse(
        handle, content_type=content_type, as_attachment=not inline, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    if keep_for:
        patch_cache_control(response, private=True, max_age=keep_for)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@tenant_view()
def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    # Not while it is being fetched, nor when it was refused or failed: 404.
    found = get_for_member(
        Attachment.objects.filter(status=AttachmentStatus.STORED), request.membership, attachment_id
    )
    return stored_file_response(found.file, content_type=found.mime_type, filename=found.file_name)


@require_GET
@tenant_view()
def attachment_thumbnail(request: HttpRequest, attachment_id: int) -> FileResponse:
    found = get_for_member(
        Attachment.objects.filter(status=AttachmentStatus.STORED).exclude(thumbnail=""),
        request.membership,
        attachment_id,
    )
    stem = found.file_name.rsplit(".", 1)[0]
    return stored_file_response(
        found.thumbnail, content_type="image/jpeg", filename=f"{stem}-thumbnail.jpg"
    )


@require_GET
@tenant_view()
def contact_avatar(request: HttpRequest, contact_id: int) -> FileResponse:
    # No picture kept (none, not yet, or given up on): 404, and the page shows initials.
    found = get_for_member(Contact.objects.exclude(avatar=""), request.membership, contact_id)
    return stored_file_response(found.avatar, content_type="image/jpeg", filename="avatar.jpg")


@require_GET
def outbound_file(request: HttpRequest, token: str) -> FileResponse:
    """One file staff sent, for Meta to fetch (Instagram takes files only by link):
    anyone with the signed link gets it while the link lasts; without one, nothing."""
    found = outbound_media.signed_attachment(token=token)
    if found is None:
        raise Http404
    return stored_file_response(
        found.file, content_type=found.mime_type, filename=found.file_name, keep_for=0
    )

"""A message's stored file through the API: a forwarded event names its files' ids, and
the business's system fetches what it needs (before answering, in bridge mode)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request

from accounts.tenancy import TenantAPIView, get_for_member
from inbox.models import Attachment, AttachmentStatus
from inbox.views.media import stored_file_response


class FileDownload(TenantAPIView):
    @extend_schema(operation_id="files_retrieve", responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request: Request, org_slug: str, file_id: int) -> FileResponse:
        """The file, as Padu stored it (its type found from its content). A file still
        being fetched from Meta, refused, failed or removed (bridge mode) is a 404."""
        found = get_for_member(
            Attachment.objects.filter(status=AttachmentStatus.STORED), self.membership, file_id
        )
        return stored_file_response(
            found.file, content_type=found.mime_type, filename=found.file_name
        )

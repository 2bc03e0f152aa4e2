"""The organisation's labels and saved replies through the API: every member reads them;
owners and admins add and remove them, as on the web."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member, require_manager
from inbox import selectors
from inbox.api.serializers import LabelSerializer, SavedReplySerializer
from inbox.models import Label, SavedReply
from inbox.services import library


class LabelList(TenantAPIView):
    @extend_schema(operation_id="labels_list", responses=LabelSerializer(many=True))
    def get(self, request: Request, org_slug: str) -> Response:
        return Response(LabelSerializer(selectors.labels_of(self.organization), many=True).data)

    @extend_schema(
        operation_id="labels_create", request=LabelSerializer, responses={201: LabelSerializer}
    )
    def post(self, request: Request, org_slug: str) -> Response:
        """Owners and admins: a new label."""
        require_manager(self.membership)
        data = LabelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = library.label_create(membership=self.membership, **data.validated_data)
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED)


class LabelDetail(TenantAPIView):
    managers_only = True

    @extend_schema(operation_id="labels_delete", responses={204: None})
    def delete(self, request: Request, org_slug: str, label_id: int) -> Response:
        """Owners and admins: remove the label, from every conversation too."""
        label = get_for_member(Label.objects.all(), self.membership, label_id)
        library.label_delete(membership=self.membership, label=label)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedReplyList(TenantAPIView):
    @extend_schema(operation_id="saved_replies_list", responses=SavedReplySerializer(many=True))
    def get(self, request: Request, org_slug: str) -> Response:
        replies = selectors.saved_replies(self.organization)
        return Response(SavedReplySerializer(replies, many=True).data)

    @extend_schema(
        operation_id="saved_replies_create",
        request=SavedReplySerializer,
        responses={201: SavedReplySerializer},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        """Owners and admins: a new saved reply."""
        require_manager(self.membership)
        data = SavedReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = library.saved_reply_create(membership=self.membership, **data.validated_data)
        return Response(SavedReplySerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedReplyDetail(TenantAPIView):
    managers_only = True

    @extend_schema(operation_id="saved_replies_delete", responses={204: None})
    def delete(self, request: Request, org_slug: str, saved_reply_id: int) -> Response:
        """Owners and admins: remove the saved reply."""
        saved = get_for_member(SavedReply.objects.all(), self.membership, saved_reply_id)
        library.saved_reply_delete(membership=self.membership, saved_reply=saved)
        return Response(status=status.HTTP_204_NO_CONTENT)

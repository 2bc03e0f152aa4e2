"""Conversations through the API: the list with the inbox's filters, one conversation,
and what staff change on it (assignee, status, labels)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member
from inbox import selectors
from inbox.api.serializers import (
    AssignSerializer,
    ConversationSerializer,
    LabelIdsSerializer,
    StatusSerializer,
)
from inbox.forms import parse_cursor
from inbox.models import Conversation, ConversationKind, ConversationStatus
from inbox.services import conversations
from padu.api import page_response, page_serializer


class CursorField(serializers.CharField):
    """Where a page starts: the `next` link carries it; it is not made by hand."""

    def to_internal_value(self, data):
        cursor = parse_cursor(super().to_internal_value(data))
        if cursor is None:
            raise serializers.ValidationError("Not a cursor from a `next` link.")
        return cursor


class ConversationFilterSerializer(serializers.Serializer):
    tab = serializers.ChoiceField(
        choices=["all", "mine", "unassigned"], default="all", help_text="Whose conversations."
    )
    status = serializers.ChoiceField(choices=[*ConversationStatus.values, "all"], default="all")
    channel = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=ConversationKind.choices, required=False)
    assignee = serializers.IntegerField(required=False, min_value=1, help_text="A user id.")
    label = serializers.IntegerField(required=False, min_value=1)
    unread = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Words in the messages, or the customer's name."
    )
    after = CursorField(required=False, help_text="From the previous page's `next` link.")


def conversation_for_api(view: TenantAPIView, conversation_id: int) -> Conversation:
    conversation = get_for_member(
        Conversation.objects.select_related("channel", "contact", "assignee"),
        view.membership,
        conversation_id,
    )
    return selectors.conversation_with_labels(conversation)


class ConversationList(TenantAPIView):
    @extend_schema(
        operation_id="conversations_list",
        parameters=[ConversationFilterSerializer],
        responses=page_serializer(ConversationSerializer),
    )
    def get(self, request: Request, org_slug: str) -> Response:
        """The organisation's conversations, latest activity first, 25 a page."""
        query = ConversationFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = dict(query.validated_data)
        after = wanted.pop("after", None)
        filters = selectors.ListFilters(**wanted)
        labels = list(selectors.labels_of(self.organization))
        page = selectors.conversation_page(self.membership, filters, labels, after)
        return page_response(
            request,
            page.conversations,
            ConversationSerializer,
            after=page.next_cursor.encode() if page.next_cursor else None,
        )


class ConversationDetail(TenantAPIView):
    @extend_schema(operation_id="conversations_retrieve", responses=ConversationSerializer)
    def get(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """One conversation, with what may be sent in it now (`reply_window`)."""
        conversation = conversation_for_api(self, conversation_id)
        return Response(ConversationSerializer(conversation).data)


class ConversationChange(TenantAPIView):
    """A change to a conversation through one service; answers the conversation."""

    def _changed(self, conversation_id: int) -> Response:
        return Response(ConversationSerializer(conversation_for_api(self, conversation_id)).data)


class ConversationAssign(ConversationChange):
    @extend_schema(
        operation_id="conversations_assign",
        request=AssignSerializer,
        responses=ConversationSerializer,
        examples=[OpenApiExample("To a member", value={"assignee": 7}, request_only=True)],
    )
    def post(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """Give the conversation to a member (their user id), or to nobody (null)."""
        conversation = conversation_for_api(self, conversation_id)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = data.validated_data["assignee"]
        assignee = None
        if wanted is not None:
            members = selectors.Choices(self.organization).members
            assignee = next((m.user for m in members if m.user_id == wanted), None)
            if assignee is None:
                raise serializers.ValidationError({"assignee": ["Not a member's user id."]})
        conversations.conversation_assign(
            membership=self.membership, conversation=conversation, assignee=assignee
        )
        return self._changed(conversation_id)


class ConversationStatusSet(ConversationChange):
    @extend_schema(
        operation_id="conversations_status",
        request=StatusSerializer,
        responses=ConversationSerializer,
        examples=[OpenApiExample("Resolve", value={"status": "resolved"}, request_only=True)],
    )
    def post(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """Open, set pending, resolve, or snooze until `snoozed_until` (in the future)."""
        conversation = conversation_for_api(self, conversation_id)
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversations.conversation_status_set(
            membership=self.membership,
            conversation=conversation,
            status=data.validated_data["status"],
            snoozed_until=data.validated_data.get("snoozed_until"),
        )
        return self._changed(conversation_id)


class ConversationLabels(ConversationChange):
    @extend_schema(
        operation_id="conversations_labels",
        request=LabelIdsSerializer,
        responses=ConversationSerializer,
        examples=[OpenApiExample("Two labels", value={"labels": [3, 5]}, request_only=True)],
    )
    def put(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """Set the conversation's labels (ids of the organisation's labels) to exactly these."""
        conversation = conversation_for_api(self, conversation_id)
        data = LabelIdsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        wanted = set(data.validated_data["labels"])
        labels = list(selectors.labels_of(self.organization).filter(pk__in=wanted))
        if len(labels) != len(wanted):
            raise serializers.ValidationError({"labels": ["Not the ids of your labels."]})
        conversations.conversation_labels_set(
            membership=self.membership, conversation=conversation, labels=labels
        )
        return self._changed(conversation_id)

"""A conversation's messages through the API: read them, and answer through the reply
service, under the same rules of Meta's as the inbox (a refusal is a 400 saying why)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member
from channels_meta.models import MessageTemplate
from inbox import selectors
from inbox.api.conversations import CursorField, conversation_for_api
from inbox.api.serializers import MessageCreateSerializer, MessageSerializer
from inbox.models import Message
from inbox.services import replies
from padu.api import page_response, page_serializer

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Any unique string (a UUID) up to 100 characters. A request repeated with the same "
        "key sends nothing again and answers the message sent the first time, with the "
        "header `Idempotent-Replayed: true`."
    ),
)


class MessageListQuerySerializer(serializers.Serializer):
    before = CursorField(required=False, help_text="From the previous page's `next` link.")


class IdempotencyKeySerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100, required=False, allow_blank=True)


def _idempotency_key(request: Request) -> str:
    header = IdempotencyKeySerializer(data={"key": request.headers.get("Idempotency-Key", "")})
    if not header.is_valid():
        raise serializers.ValidationError({"Idempotency-Key": header.errors["key"]})
    return header.validated_data.get("key", "").strip()


class MessageList(TenantAPIView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[MessageListQuerySerializer],
        responses=page_serializer(MessageSerializer),
    )
    def get(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """The conversation's messages, newest first, 50 a page."""
        conversation = conversation_for_api(self, conversation_id)
        query = MessageListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.messages_page(conversation, query.validated_data.get("before"))
        return page_response(
            request,
            page.messages,
            MessageSerializer,
            before=page.older.encode() if page.older else None,
        )

    @extend_schema(
        operation_id="messages_send",
        parameters=[IDEMPOTENCY_KEY],
        request={
            "application/json": MessageCreateSerializer,
            "multipart/form-data": MessageCreateSerializer,
        },
        responses={201: MessageSerializer, 200: MessageSerializer},
        examples=[
            OpenApiExample("A reply", value={"text": "Your order ships today."}, request_only=True),
            OpenApiExample(
                "A WhatsApp template",
                value={"template": 4, "parameters": ["Ayşe", "A-1042"]},
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, org_slug: str, conversation_id: int) -> Response:
        """Send a reply, a file or a template: stored `queued`, then delivered to Meta by a
        worker (read its `status` later). 201, or 200 when the Idempotency-Key was used."""
        conversation = conversation_for_api(self, conversation_id)
        idempotency_key = _idempotency_key(request)
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = data.validated_data
        given = {
            "membership": self.membership,
            "conversation": conversation,
            "idempotency_key": idempotency_key,
        }
        if "template" in reply:
            template = get_for_member(
                MessageTemplate.objects.filter(channel=conversation.channel_id),
                self.membership,
                reply["template"],
            )
            message = replies.template_send(
                template=template, parameters=reply.get("parameters", []), **given
            )
        elif "file" in reply:
            message = replies.attachment_reply_send(
                upload=reply["file"],
                caption=reply.get("text", ""),
                mode=reply.get("mode", ""),
                **given,
            )
        else:
            message = replies.reply_send(text=reply["text"], mode=reply.get("mode", ""), **given)
        replayed = getattr(message, "replayed", False)
        message = get_for_member(
            Message.objects.select_related("author"), self.membership, message.pk
        )
        message.api_files = list(message.files.all())
        return Response(
            MessageSerializer(message).data,
            status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED,
            headers={"Idempotent-Replayed": "true"} if replayed else {},
        )

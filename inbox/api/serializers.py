"""What the inbox's API reads and writes, field by field (and so what its schema says)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from inbox import policy
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    ConversationStatus,
    Label,
    Message,
    SavedReply,
    SendMode,
)


class PersonSerializer(serializers.ModelSerializer):
    """A member of the organisation."""

    name = serializers.CharField(source="get_full_name")

    class Meta:
        model = User
        fields = ["id", "name", "email"]


class ContactBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "display_name", "handle"]


class ContactSerializer(serializers.ModelSerializer):
    processing_restricted = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "channel",
            "external_id",
            "display_name",
            "name",
            "username",
            "phone",
            "custom_name",
            "email",
            "notes",
            "marketing_opt_out",
            "processing_restricted",
            "created_at",
            "updated_at",
        ]

    def get_processing_restricted(self, contact: Contact) -> bool:
        return contact.processing_restricted_at is not None


class ContactUpdateSerializer(serializers.Serializer):
    """The business's own fields; those left out keep their value."""

    custom_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class ReplyWindowSerializer(serializers.Serializer):
    """What may be sent now: `modes` (the first is the default), until when the first stays
    possible, and why anything is refused."""

    modes = serializers.ListField(child=serializers.ChoiceField(choices=SendMode.choices))
    until = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)


class ChannelBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()


class ConversationSerializer(serializers.ModelSerializer):
    channel = ChannelBriefSerializer()
    contact = ContactBriefSerializer()
    assignee = PersonSerializer(allow_null=True)
    labels = serializers.SerializerMethodField()
    reply_window = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "kind",
            "status",
            "snoozed_until",
            "channel",
            "contact",
            "assignee",
            "labels",
            "unread_count",
            "last_message_at",
            "last_inbound_at",
            "created_at",
            "reply_window",
        ]

    def get_labels(self, conversation: Conversation) -> list[int]:
        return [label.pk for label in conversation.label_list]

    @extend_schema_field(ReplyWindowSerializer)
    def get_reply_window(self, conversation: Conversation) -> dict:
        options = policy.conversation_reply_options(conversation, timezone.now())
        return {"modes": list(options.modes), "until": options.until, "reason": str(options.reason)}


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "kind", "mime_type", "size", "file_name", "status"]


class MessageSerializer(serializers.ModelSerializer):
    author = PersonSerializer(allow_null=True)
    files = AttachmentSerializer(many=True, source="api_files")

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "direction",
            "kind",
            "status",
            "text",
            "files",
            "send_mode",
            "author",
            "external_id",
            "reply_to_external_id",
            "reaction",
            "is_deleted",
            "error_code",
            "error_reason",
            "sent_at",
            "delivered_at",
            "read_at",
            "contents_dropped_at",
        ]


class MessageCreateSerializer(serializers.Serializer):
    """A reply: `text`; or a `file` (multipart) with `text` as its caption; or an approved
    WhatsApp `template` with its `parameters`. `mode` is how it goes (by default the
    first of the conversation's `reply_window.modes`)."""

    text = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, trim_whitespace=False
    )
    mode = serializers.ChoiceField(choices=SendMode.choices, required=False, allow_blank=True)
    file = serializers.FileField(required=False)
    template = serializers.IntegerField(required=False, min_value=1)
    parameters = serializers.ListField(
        child=serializers.CharField(max_length=1024, allow_blank=True),
        required=False,
        max_length=10,
    )

    def validate(self, data: dict) -> dict:
        if "template" in data and ("file" in data or data.get("text")):
            raise serializers.ValidationError("Send a template alone, without text or a file.")
        if "template" not in data and not data.get("text") and "file" not in data:
            raise serializers.ValidationError("Write a message first.")
        return data


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True, help_text="A member's user id, or null.")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True)


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "colour"]
        extra_kwargs = {"colour": {"default": Label.Colour.BLUE}}


class SavedReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedReply
        fields = ["id", "shortcut", "text"]


class LabelIdsSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=100)

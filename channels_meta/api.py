"""Channels through the API: which are connected, their state and problems, and a
WhatsApp channel's message templates. Connecting and disconnecting stay in the web, where
Meta's sign-in runs."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member
from channels_meta import selectors
from channels_meta.models import Channel, MessageTemplate


class ChannelSerializer(serializers.ModelSerializer):
    problems = serializers.ListField(
        child=serializers.CharField(), help_text="What someone must act on, a sentence each."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "kind",
            "name",
            "handle",
            "external_id",
            "status",
            "problems",
            "quality_rating",
            "messaging_limit",
            "human_agent_enabled",
            "connected_at",
            "last_event_at",
        ]


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = [
            "id",
            "name",
            "language",
            "status",
            "category",
            "status_reason",
            "quality_score",
            "components",
            "updated_at",
        ]


def _channel(view: TenantAPIView, channel_id: int) -> Channel:
    return get_for_member(Channel.objects.all(), view.membership, channel_id)


class ChannelList(TenantAPIView):
    @extend_schema(operation_id="channels_list", responses=ChannelSerializer(many=True))
    def get(self, request: Request, org_slug: str) -> Response:
        channels = selectors.channels_for_org(self.organization).order_by("kind", "name")
        return Response(ChannelSerializer(channels, many=True).data)


class ChannelDetail(TenantAPIView):
    @extend_schema(operation_id="channels_retrieve", responses=ChannelSerializer)
    def get(self, request: Request, org_slug: str, channel_id: int) -> Response:
        return Response(ChannelSerializer(_channel(self, channel_id)).data)


class TemplateList(TenantAPIView):
    @extend_schema(operation_id="templates_list", responses=TemplateSerializer(many=True))
    def get(self, request: Request, org_slug: str, channel_id: int) -> Response:
        """The WhatsApp channel's message templates as Meta last reported them; approved
        ones may be sent with `messages_send`."""
        templates = selectors.templates_for_channel(_channel(self, channel_id))
        return Response(TemplateSerializer(templates.order_by("name", "language"), many=True).data)


api_patterns = [
    path("channels/", ChannelList.as_view(), name="api_channels"),
    path("channels/<int:channel_id>/", ChannelDetail.as_view(), name="api_channel"),
    path("channels/<int:channel_id>/templates/", TemplateList.as_view(), name="api_templates"),
]

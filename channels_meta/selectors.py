from __future__ import annotations

from accounts.models import Organization
from channels_meta.models import Channel, MessageTemplate


def channels_for_org(organization: Organization):
    return Channel.objects.for_org(organization).select_related("connected_by")


def templates_for_channel(channel: Channel):
    return MessageTemplate.objects.for_org(channel.organization_id).filter(channel=channel)

from __future__ import annotations

from django.http import HttpRequest

from channels_meta.models import Channel, ChannelStatus


def channel_health(request: HttpRequest) -> dict:
    """Channels of the current organisation that need reconnecting, for the banner."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "reauth_channels": Channel.objects.for_org(membership.organization).filter(
            status=ChannelStatus.NEEDS_REAUTH
        )
    }

from __future__ import annotations

from django.http import Http404

from accounts.models import Membership, Organization
from channels_meta.models import Channel


def channels_for_org(organization: Organization):
    return Channel.objects.for_org(organization).select_related("connected_by")


def channel_for_member(member: Membership, pk: int) -> Channel:
    """A channel of the member's organisation, or 404 (also for other tenants' ids)."""
    try:
        return Channel.objects.for_org(member.organization).get(pk=pk)
    except Channel.DoesNotExist:
        raise Http404 from None

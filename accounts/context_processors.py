from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Membership


def organizations(request: HttpRequest) -> dict:
    """The signed-in person's organisations, for the switcher, and the current one."""
    if not request.user.is_authenticated:
        return {}
    return {
        "user_memberships": Membership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name"),
        "current_membership": getattr(request, "membership", None),
    }

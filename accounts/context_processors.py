from __future__ import annotations

from django.http import HttpRequest

from accounts.models import Notice
from accounts.tenancy import user_memberships


def organizations(request: HttpRequest) -> dict:
    """The signed-in person's organisations, for the switcher, and the current one."""
    if not request.user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    notices = (
        Notice.objects.for_org(membership.organization).unread()[:5]
        if membership is not None and membership.is_manager
        else []
    )
    return {
        "notices": notices,
        # Topics of notices the page tells in place (its views say which), left out above.
        "announced_topics": (),
        # Organisation pages have read them already, to find the current one.
        "user_memberships": getattr(request, "memberships", None) or user_memberships(request.user),
        "current_membership": membership,
    }

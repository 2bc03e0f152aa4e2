from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def policy_notice(request: HttpRequest) -> dict:
    """Whether to tell the signed-in person the privacy policy changed since they saw it."""
    user = request.user
    unseen = user.is_authenticated and user.policy_version_seen != settings.PRIVACY_POLICY_VERSION
    return {"policy_notice": unseen}

"""What the public privacy, cookie and sub-processor pages state, read from the code and
settings that enforce it, so the pages cannot drift from what Padu does."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings

from privacy.models import ANSWER_WITHIN, DISCONNECTED_CHANNEL_DAYS
from privacy.services.customer_requests import UNCONFIRMED_KEPT
from privacy.services.export_jobs import EXPORT_KEPT
from privacy.services.retention import ACCESS_LOG_KEPT, AUDIT_EVENTS_KEPT, WEBHOOK_EVENTS_KEPT


def _days(period: timedelta) -> int:
    return period.days


def policy_facts() -> dict:
    """The periods, contact, sub-processors and version the policy pages state."""
    return {
        "version": settings.PRIVACY_POLICY_VERSION,
        "updated": date.fromisoformat(settings.PRIVACY_POLICY_VERSION),
        "contact": settings.PRIVACY_CONTACT_EMAIL,
        "sub_processors": settings.SUB_PROCESSORS,
        "webhook_days": _days(WEBHOOK_EVENTS_KEPT),
        "audit_days": _days(AUDIT_EVENTS_KEPT),
        "access_log_days": _days(ACCESS_LOG_KEPT),
        "export_days": _days(EXPORT_KEPT),
        "unconfirmed_days": _days(UNCONFIRMED_KEPT),
        "answer_days": _days(ANSWER_WITHIN),
        "disconnected_days": DISCONNECTED_CHANNEL_DAYS,
        "session_days": settings.SESSION_COOKIE_AGE // 86400,
        "invitation_days": settings.INVITATION_VALID_DAYS,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "csrf_days": settings.CSRF_COOKIE_AGE // 86400,
    }

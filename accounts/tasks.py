from __future__ import annotations

from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts import services


@shared_task
def invitations_purge_expired() -> int:
    """Delete invitations expired more than 30 days ago."""
    return services.invitations_purge_expired()


@shared_task
def sessions_purge_expired() -> int:
    """Delete expired sessions (what `manage.py clearsessions` does for the database)."""
    deleted, _per_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted

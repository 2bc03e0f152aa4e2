"""The access log: which signed-in person opened what, when, from where. One row a
request, written after the answer; kept 90 days."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from accounts.net import client_ip
from padu.batches import delete_in_batches
from privacy.models import AccessLogEntry

logger = logging.getLogger(__name__)

# Parts of an address that open something by themselves: never written down.
SECRET_URL_PARTS = ("token", "uidb64", "code")
# Longer parts of an address that matches no page are left out: tokens are longer.
LONGEST_PLAIN_PART = 16


def _path_without_secrets(request: HttpRequest) -> str:
    match = request.resolver_match
    if match is None:
        # An address nothing answers (a link cut short, say) may still carry a token.
        return "/".join(
            part if len(part) <= LONGEST_PLAIN_PART else "<…>" for part in request.path.split("/")
        )[:500]
    path = request.path
    for name in SECRET_URL_PARTS:
        value = match.kwargs.get(name)
        if value:
            path = path.replace(str(value), f"<{name}>")
    return path[:500]


def access_record(*, request: HttpRequest, response: HttpResponse) -> None:
    """Note a signed-in person's request (unless its view is exempt). A failure to write
    it is logged, never shown to the person."""
    match = request.resolver_match
    if match is not None and getattr(match.func, "access_log_exempt", False):
        return
    try:
        AccessLogEntry.objects.create(
            user=request.user,
            organization=getattr(request, "organization", None),
            method=request.method[:8],
            path=_path_without_secrets(request),
            status=response.status_code,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", "")[:300],
        )
    except DatabaseError as error:
        logger.warning("Access log entry not written: %s", type(error).__name__)


def access_log_purge(*, before: datetime) -> int:
    """Delete access log entries older than `before`; returns how many."""
    return delete_in_batches(AccessLogEntry.objects.filter(created_at__lt=before))

"""What waits for a message that has not arrived: receipts and changes Meta reported
first. A message arrives within seconds of its receipts, or not at all; what has waited
longer than `PENDING_MAX_AGE_DAYS` is deleted, so nothing waits forever."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inbox.models import PendingChange, PendingReceipt

PENDING_MAX_AGE_DAYS = 7


@transaction.atomic
def pending_purge_stale(*, older_than_days: int = PENDING_MAX_AGE_DAYS) -> int:
    """Delete waiting receipts and changes older than `older_than_days`; returns how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    receipts, _per_model = PendingReceipt.objects.filter(at__lt=cutoff).delete()
    changes, _per_model = PendingChange.objects.filter(at__lt=cutoff).delete()
    return receipts + changes

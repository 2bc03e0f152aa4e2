"""Deleting many rows without holding a table for long."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

ROWS_AT_ONCE = 10_000


def delete_in_batches(rows: QuerySet, size: int = ROWS_AT_ONCE) -> int:
    """Delete the rows `rows` selects, at most `size` a transaction (for models with no
    rows depending on them); returns how many. Cut off midway, it leaves whole batches,
    and running it again finishes the work."""
    model = rows.model
    deleted = 0
    while ids := list(rows.values_list("pk", flat=True)[:size]):
        with transaction.atomic():
            deleted += model.objects.filter(pk__in=ids).delete()[0]
    return deleted

"""Transactions for work that is done again when a crash loses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def redoable_transaction() -> Iterator[None]:
    """A transaction whose commit does not wait for the disk (on PostgreSQL): for work
    whose loss in a crash is harmless because it is done again (a delivery processed
    again, a purge run again)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield

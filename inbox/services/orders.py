"""Order records: each order a customer places is written down for the business's
books, and who placed it is forgotten when the customer's data is erased or the
organisation's years for order records have passed."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from channels_meta.models import Channel
from channels_meta.webhooks.events import MessageEvent
from inbox.models import Contact, OrderRecord


def orders_keep(
    *, channel: Channel, contacts: dict[str, Contact], events: list[MessageEvent]
) -> int:
    """Record the orders among these newly stored messages; returns how many."""
    records = [
        OrderRecord(
            organization_id=channel.organization_id,
            channel=channel,
            contact=contacts[event.customer_id],
            customer_id=event.customer_id,
            customer_name=contacts[event.customer_id].name,
            message_external_id=event.external_id,
            ordered_at=event.at,
            catalog_id=event.extra["order"].get("catalog_id", ""),
            items=event.extra["order"].get("product_items", []),
        )
        for event in events
        if "order" in event.extra and not event.is_echo
    ]
    OrderRecord.objects.bulk_create(records)
    return len(records)


def order_records_anonymize(records: QuerySet[OrderRecord], *, now: datetime | None = None) -> int:
    """Forget who placed these orders, keeping what was ordered and when; returns how
    many records were anonymized."""
    return records.filter(anonymized_at__isnull=True).update(
        contact=None,
        customer_id="",
        customer_name="",
        message_external_id="",
        anonymized_at=now or timezone.now(),
    )

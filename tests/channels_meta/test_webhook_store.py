"""WebhookEvent.objects.store: the webhook endpoint's one INSERT, on a prepared statement
through libpq when the connection is in autocommit, and an ordinary INSERT in a
transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from channels_meta.models import WebhookEvent, WebhookEventStatus

BODY = b'{"object": "page", "entry": []}\x00\xff'


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_stored_whole_as_pending_on_each_connection():
    first = WebhookEvent.objects.store(BODY)
    again = WebhookEvent.objects.store(BODY + b" ")
    connection.close()
    on_a_new_connection = WebhookEvent.objects.store(BODY)

    stored = WebhookEvent.objects.order_by("pk")
    assert [event.pk for event in stored] == [first, again, on_a_new_connection]
    assert [bytes(event.body) for event in stored] == [BODY, BODY + b" ", BODY]
    assert {event.status for event in stored} == {WebhookEventStatus.PENDING}
    assert {(event.attempts, event.error, event.object_type) for event in stored} == {(0, "", "")}
    assert all(timezone.now() - event.received_at < timedelta(seconds=5) for event in stored)


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_delivery_goes_with_it():
    with transaction.atomic():
        stored = WebhookEvent.objects.store(BODY)
        transaction.set_rollback(True)

    assert stored
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_refused_insert_raises_postgresql_s_error_and_stores_nothing():
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")

    with pytest.raises(DatabaseError, match="read-only transaction"):
        WebhookEvent.objects.store(BODY)

    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = off")
    assert WebhookEvent.objects.store(BODY)
    assert WebhookEvent.objects.count() == 1

"""Every change to contacts, conversations and messages that Meta reports goes through
here; webhook processing hands each channel's events to `events_record`, which records
messages and comments itself and hands the rest to `contacts` (customers' ids and
preferences), `changes` (reactions, edits, deletions) and `receipts` (statuses).

Recording is idempotent: a message is stored once per (channel, Meta's id) whatever
how often Meta delivers it, and outbound statuses only move forward. Each service is one
transaction, or part of the caller's (without a savepoint per event: webhook processing
records a whole batch of deliveries in one transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple, TypeVar

from django.db import connection, models, transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest

from channels_meta.models import Channel
from channels_meta.webhooks.events import (
    CommentEvent,
    ContactChangeEvent,
    DeletionEvent,
    EditEvent,
    MessageEvent,
    PreferenceEvent,
    ReactionEvent,
    StatusEvent,
)
from inbox import live, tasks
from inbox.models import (
    Contact,
    Conversation,
    ConversationKind,
    ConversationStatus,
    Direction,
    EventType,
    Message,
    MessageKind,
    MessageStatus,
)
from inbox.services import outbox
from inbox.services.bulk import rows_insert
from inbox.services.changes import (
    deletion_record,
    edit_record,
    pending_changes_apply,
    reaction_record,
)
from inbox.services.contacts import (
    Person,
    Resolved,
    contact_change_record,
    contact_upsert,
    contacts_resolve,
    preference_record,
)
from inbox.services.media_intake import attachments_fetch_soon, downloadable
from inbox.services.orders import orders_keep
from inbox.services.posts import comment_post_fetch_soon
from inbox.services.profiles import contact_profiles_fetch_soon
from inbox.services.receipts import advance, pending_receipts_apply, status_record

Row = TypeVar("Row", bound=models.Model)
InboxEvent = (
    MessageEvent
    | StatusEvent
    | ReactionEvent
    | EditEvent
    | DeletionEvent
    | CommentEvent
    | ContactChangeEvent
    | PreferenceEvent
)


@transaction.atomic(savepoint=False)
def events_record(*, channel: Channel, events: Iterable[InboxEvent]) -> None:
    """Record one channel's events in the order they arrived: consecutive messages as
    one batch, anything else after the messages before it, so a receipt is applied
    after the message it is about. The profiles of the customers who wrote for the first
    time are looked up after the commit, in one task; open inbox pages are told."""
    events = list(events)
    new_customers: list[int] = []
    for is_message, run in groupby(events, key=lambda event: isinstance(event, MessageEvent)):
        if is_message:
            new_customers += messages_record(channel=channel, events=list(run)).new_customers
            continue
        for event in run:
            _event_record(channel, event)
    contact_profiles_fetch_soon(channel=channel, contact_ids=new_customers)
    live.changed(
        organization_id=channel.organization_id,
        conversation_ids=_conversations_touched(channel, events),
    )


def _conversations_touched(channel: Channel, events: list[InboxEvent]) -> list[int]:
    """The conversations a batch may have changed: the customers' conversations (found
    through the channel's contacts, on the contacts' unique index) and the comment
    threads."""
    customers = {event.customer_id for event in events if getattr(event, "customer_id", "")}
    threads = {
        event.parent_id or event.comment_id for event in events if isinstance(event, CommentEvent)
    }
    touched: list[int] = []
    if customers:
        contacts = Contact.objects.filter(channel=channel, external_id__in=customers)
        touched += Conversation.objects.filter(contact__in=contacts.values("pk")).values_list(
            "pk", flat=True
        )
    if threads:
        touched += Conversation.objects.filter(
            channel=channel, kind=ConversationKind.COMMENT, comment_id__in=threads
        ).values_list("pk", flat=True)
    return touched


def _event_record(channel: Channel, event: InboxEvent) -> None:
    match event:
        case StatusEvent():
            status_record(channel=channel, event=event)
        case ReactionEvent():
            reaction_record(channel=channel, event=event)
        case EditEvent():
            edit_record(channel=channel, event=event)
        case DeletionEvent():
            deletion_record(channel=channel, event=event)
        case CommentEvent():
            comment_record(channel=channel, event=event)
        case ContactChangeEvent():
            contact_change_record(channel=channel, event=event)
        case PreferenceEvent():
            preference_record(channel=channel, event=event)
        case _:
            raise TypeError(f"The inbox does not record a {type(event).__name__}")


class Recorded(NamedTuple):
    """What a batch of messages added: Meta's ids of the new messages, and the contacts
    created for customers who wrote (not for those only the business wrote to)."""

    message_ids: set[str]
    new_customers: list[int]


class NewMessage(NamedTuple):
    at: datetime
    is_echo: bool  # sent by the business
    kind: str = MessageKind.MESSAGE


def _from_customer(event: Any) -> bool:
    """A message the customer wrote (not the business's, not a system line): it counts
    as unread and restarts the messaging window."""
    return not event.is_echo and event.kind == MessageKind.MESSAGE


class _Clock(NamedTuple):
    """How a conversation's new messages move its clocks."""

    conversation_id: int
    last_at: datetime
    last_inbound_at: datetime | None  # None: nothing from the customer
    inbound: int


def _touch(new_messages: dict[int, list]) -> None:
    """Move the clocks of the conversations that got new messages forward: `new_messages`
    maps a conversation id to its new messages (anything with `at` and `is_echo`).
    Inbound messages count as unread, reopen a resolved or snoozed conversation and
    restart the messaging window (system lines do not)."""
    clocks = []
    for conversation_id, events in new_messages.items():
        inbound = [e.at for e in events if _from_customer(e)]
        clocks.append(
            _Clock(
                conversation_id, max(e.at for e in events), max(inbound, default=None), len(inbound)
            )
        )
    if not clocks:
        return
    if connection.vendor != "postgresql":  # SQLite, in the demo: a row at a time is fast
        for clock in clocks:
            _clock_move(clock)
        return
    reopened = [ConversationStatus.RESOLVED, ConversationStatus.SNOOZED]
    with connection.cursor() as cursor:
        # PostgreSQL's GREATEST skips NULLs: a clock never set takes the new time.
        cursor.execute(
            "UPDATE inbox_conversation AS c SET "
            "last_message_at = GREATEST(c.last_message_at, clock.last_at), "
            "last_inbound_at = GREATEST(c.last_inbound_at, clock.last_inbound_at), "
            "unread_count = c.unread_count + clock.inbound, "
            "status = CASE WHEN clock.inbound > 0 AND c.status = ANY(%s) THEN %s "
            "ELSE c.status END "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[], %s::integer[]) "
            "AS clock(id, last_at, last_inbound_at, inbound) "
            "WHERE c.id = clock.id",
            [reopened, ConversationStatus.OPEN, *map(list, zip(*clocks, strict=True))],
        )


def _clock_move(clock: _Clock) -> None:
    def later(field: str, at: datetime) -> Greatest:
        return Greatest(Coalesce(F(field), Value(at)), Value(at))

    changes: dict = {"last_message_at": later("last_message_at", clock.last_at)}
    if clock.inbound:
        changes["last_inbound_at"] = later("last_inbound_at", clock.last_inbound_at)
        changes["unread_count"] = F("unread_count") + clock.inbound
        changes["status"] = Case(
            When(
                status__in=[ConversationStatus.RESOLVED, ConversationStatus.SNOOZED],
                then=Value(ConversationStatus.OPEN),
            ),
            default=F("status"),
        )
    Conversation.objects.filter(pk=clock.conversation_id).update(**changes)


def _rows_get_or_create(
    queryset: QuerySet[Row], key: str, keys: list, build: Callable[[Any], Row]
) -> tuple[dict[Any, Row], list[Row]]:
    """The rows of `queryset` whose field `key` is one of `keys`, by key: stored ones
    read at once, the others built, inserted together and read back (a concurrent
    insert of the same row is not an error); and those that were not stored before."""
    rows = {getattr(row, key): row for row in queryset.filter(**{f"{key}__in": keys})}
    missing = [value for value in keys if value not in rows]
    if not missing:
        return rows, []
    rows_insert([build(value) for value in missing])
    created = list(queryset.filter(**{f"{key}__in": missing}))
    rows.update({getattr(row, key): row for row in created})
    return rows, created


def _contacts_upsert(channel: Channel, events: list[MessageEvent]) -> Resolved:
    """The contacts of a batch, by customer id, found by either of Meta's ids for them
    and created if new; the names in the batch fill in or correct what is known."""
    people = [
        Person(
            e.customer_id,
            e.customer_other_id,
            e.customer_name,
            e.customer_username,
            e.customer_phone,
        )
        for e in events
    ]
    return contacts_resolve(channel=channel, people=people)


def _dm_conversations_upsert(
    channel: Channel, contacts: list[Contact]
) -> tuple[dict[int, Conversation], list[Conversation]]:
    """The direct-message conversation of each contact, by contact id, created if new;
    and those created."""
    return _rows_get_or_create(
        Conversation.objects.filter(kind=ConversationKind.DM),
        "contact_id",
        [contact.pk for contact in contacts],
        lambda contact_id: Conversation(
            organization_id=channel.organization_id,
            channel=channel,
            contact_id=contact_id,
            kind=ConversationKind.DM,
        ),
    )


def _insert_new(rows: list[Message]) -> dict[str, int]:
    """Insert messages, skipping those already stored (by this or a concurrent worker);
    returns the row id of each message this call inserted, by Meta's id."""
    inserted = rows_insert(
        rows,
        conflict="(channel_id, external_id) WHERE NOT (external_id = '')",
        returning=["external_id", "id"],
    )
    return dict(inserted)


def _message_row(channel: Channel, event: MessageEvent, conversation_id: int) -> Message:
    return Message(
        organization_id=channel.organization_id,
        channel=channel,
        conversation_id=conversation_id,
        direction=Direction.OUTBOUND if event.is_echo else Direction.INBOUND,
        kind=event.kind,
        external_id=event.external_id,
        text=event.text,
        attachments=list(event.attachments),
        reply_to_external_id=event.reply_to,
        extra=event.extra,
        status=MessageStatus.SENT if event.is_echo else MessageStatus.RECEIVED,
        sent_at=event.at,
        is_deleted=event.is_deleted,
        media_pending=any(downloadable(attachment) for attachment in event.attachments),
    )


def _messages_insert(
    channel: Channel, events: list[MessageEvent]
) -> tuple[dict[str, int], list[int]]:
    """Store the batch's messages not stored yet, with the contacts and conversations
    they need, and have their attachments fetched once this commits; returns the
    conversation id of each message this call inserted, by Meta's id, and the ids of
    the contacts created for customers who wrote."""
    contacts, created = _contacts_upsert(channel, events)
    conversations, started = _dm_conversations_upsert(channel, list(contacts.values()))
    conversation_of = {
        customer: conversations[contact.pk].pk for customer, contact in contacts.items()
    }
    rows = [_message_row(channel, e, conversation_of[e.customer_id]) for e in events]
    new = _insert_new(rows)
    outbox.conversations_forward(
        organization_id=channel.organization_id,
        conversation_ids=[conversation.pk for conversation in started],
        event_type=EventType.CONVERSATION_CREATED,
    )
    outbox.messages_forward(organization_id=channel.organization_id, message_ids=new.values())
    orders_keep(
        channel=channel, contacts=contacts, events=[e for e in events if e.external_id in new]
    )
    attachments_fetch_soon(
        message_ids=[
            new[row.external_id] for row in rows if row.media_pending and row.external_id in new
        ],
        enqueue=lambda message_ids: tasks.attachments_fetch.delay(message_ids),
    )
    # Meta shows a customer's profile once they have written, not when only the business
    # has (a private reply to a comment, a message from another app).
    wrote = {contacts[e.customer_id].pk for e in events if not e.is_echo}
    new_customers = [contact.pk for contact in created if contact.pk in wrote]
    return (
        {e.external_id: conversation_of[e.customer_id] for e in events if e.external_id in new},
        new_customers,
    )


def _messages_redelivered_apply(channel: Channel, events: list[MessageEvent], at: datetime) -> None:
    """Messages Meta delivers again: a deletion marks the stored one, and the echo of a
    message Padu sent moves it to sent (at `at`)."""
    stored = Message.objects.filter(channel=channel)
    deleted = [e.external_id for e in events if e.is_deleted]
    if deleted:
        stored.filter(external_id__in=deleted).update(is_deleted=True)
    echoed = [e.external_id for e in events if e.is_echo]
    if echoed:
        advance(
            stored.filter(external_id__in=echoed),
            MessageStatus.SENT,
            at,
            organization_id=channel.organization_id,
        )


def _messages_apply(channel: Channel, events: list[MessageEvent], new: dict[str, int]) -> None:
    """What a recorded batch changes besides its new rows: the clocks of conversations
    that got new messages (`new`: conversation id by Meta id), messages delivered
    again, and receipts that waited for a new echo."""
    new_messages: dict[int, list] = {}
    for event in events:
        if event.external_id in new:
            new_messages.setdefault(new[event.external_id], []).append(event)
    _touch(new_messages)
    _referrals_remember(
        {new[e.external_id]: e.referral for e in events if e.referral and e.external_id in new}
    )
    _messages_redelivered_apply(
        channel, [e for e in events if e.external_id not in new], events[0].at
    )
    pending_receipts_apply(
        channel=channel,
        external_ids=[e.external_id for e in events if e.is_echo and e.external_id in new],
    )
    pending_changes_apply(channel=channel, external_ids=list(new))


def _referrals_remember(referrals: dict[int, dict]) -> None:
    """Conversations remember the latest ad or link that brought the customer."""
    for conversation_id, referral in referrals.items():
        Conversation.objects.filter(pk=conversation_id).update(referral=referral)


@transaction.atomic(savepoint=False)
def messages_record(*, channel: Channel, events: list[MessageEvent]) -> Recorded:
    """Store customers' messages and echoes of the business's own, each once whatever
    how often Meta delivers it; returns the Meta ids that were new and the contacts
    created for customers who wrote."""
    unique = list({e.external_id: e for e in events if e.external_id and e.customer_id}.values())
    if not unique:
        return Recorded(set(), [])
    new, new_customers = _messages_insert(channel, unique)
    _messages_apply(channel, unique, new)
    return Recorded(set(new), new_customers)


@transaction.atomic(savepoint=False)
def comment_record(*, channel: Channel, event: CommentEvent) -> Message:
    """A comment on an Instagram post: a thread per top-level comment; replies join
    their parent's thread. The business's own comments are outbound."""
    from_business = bool(event.customer_id) and event.customer_id == channel.external_id
    thread_id = event.parent_id or event.comment_id
    # Meta leaves out `from` for some commenters (and mentions have no author): such a
    # comment gets a contact of its own rather than one with an empty id.
    customer_id = event.customer_id or f"comment-{event.comment_id}"
    contact = None
    if not from_business and (event.customer_id or not event.parent_id):
        contact = contact_upsert(channel=channel, external_id=customer_id, username=event.username)
    conversation = Conversation.objects.filter(
        channel=channel, kind=ConversationKind.COMMENT, comment_id=thread_id
    ).first()
    if conversation is None:
        if contact is None:
            contact = contact_upsert(
                channel=channel, external_id=customer_id, username=event.username
            )
        conversation, created = Conversation.objects.get_or_create(
            channel=channel,
            kind=ConversationKind.COMMENT,
            comment_id=thread_id,
            defaults={
                "organization_id": channel.organization_id,
                "contact": contact,
                "media_id": event.media_id,
                "comment_at": event.at if event.comment_id == thread_id else None,
            },
        )
        if created:
            outbox.conversations_forward(
                organization_id=channel.organization_id,
                conversation_ids=[conversation.pk],
                event_type=EventType.CONVERSATION_CREATED,
            )
        if created and conversation.media_id:
            comment_post_fetch_soon(conversation=conversation)
    elif event.comment_id == thread_id and conversation.comment_at is None:
        conversation.comment_at = event.at
        conversation.save(update_fields=["comment_at"])
    comment = {"media_id": event.media_id, "username": event.username}
    message, created = Message.objects.get_or_create(
        channel=channel,
        external_id=event.comment_id,
        defaults={
            "organization_id": channel.organization_id,
            "conversation": conversation,
            "direction": Direction.OUTBOUND if from_business else Direction.INBOUND,
            "text": event.text,
            "reply_to_external_id": event.parent_id,
            "extra": {"comment": comment, **event.extra},
            "status": MessageStatus.SENT if from_business else MessageStatus.RECEIVED,
            "sent_at": event.at,
        },
    )
    if created:
        _touch({conversation.pk: [NewMessage(event.at, from_business)]})
        outbox.messages_forward(organization_id=channel.organization_id, message_ids=[message.pk])
    return message

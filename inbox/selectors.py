"""Reads for the inbox pages: the conversation list (filters, search, keyset pages, tab
counts) and a conversation's timeline, each in a fixed number of queries; and for the
organisation's overview, its open work by channel and who waits longest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db import connection
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    F,
    Func,
    JSONField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    When,
    prefetch_related_objects,
)
from django.db.models.fields.json import KT
from django.db.models.functions import JSONObject, Left
from django.utils.text import Truncator

from accounts.models import Membership, Organization, User
from channels_meta.models import Channel, ChannelStatus
from inbox.models import (
    Contact,
    Conversation,
    ConversationStatus,
    ConversationWord,
    Direction,
    EventDelivery,
    Label,
    Message,
    Note,
    SavedReply,
    WebhookEndpoint,
)

PAGE_SIZE = 25
PREVIEW_LENGTH = 90
TIMELINE_PAGE_SIZE = 30
SEARCH_WORDS = 5  # the longest of a search's words are enough to find it


@dataclass(frozen=True)
class ListFilters:
    """The list's filters as the URL carries them; empty means any."""

    tab: str = "all"  # mine | unassigned | all
    status: str = ConversationStatus.OPEN  # or "all"
    channel: int | None = None
    kind: str = ""  # dm | comment
    assignee: int | None = None
    label: int | None = None
    unread: bool = False
    q: str = ""


@dataclass(frozen=True)
class Cursor:
    """Where a page of the list ends: the last row's activity time and id."""

    at: datetime
    pk: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.pk}"


@dataclass
class ListPage:
    conversations: list[Conversation]
    next_cursor: Cursor | None
    counts: dict[str, int] = field(default_factory=dict)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ILike(Lookup):
    lookup_name = "ilike"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} ILIKE {rhs}", [*lhs_params, *rhs_params]


class SearchableText(TextField):
    """Text searched with ILIKE, which PostgreSQL's trigram indexes serve."""


SearchableText.register_lookup(ILike)


class ContactHaystack(Func):
    """A contact's names, handle and phone in one string, as the trigram index has them."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = SearchableText()

    def __init__(self) -> None:
        super().__init__(F("custom_name"), F("name"), F("username"), F("phone"))


def _words_of(q: str) -> list[str]:
    """The words of `q` as PostgreSQL reads messages into `ConversationWord` (lower case,
    split where its parser splits), the longest first, at most `SEARCH_WORDS`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT lexeme FROM unnest(to_tsvector('simple', %s)) "
            "ORDER BY length(lexeme) DESC LIMIT %s",
            [q, SEARCH_WORDS],
        )
        return [lexeme for (lexeme,) in cursor.fetchall()]


def _contacts_matching(contacts: QuerySet[Contact], q: str) -> QuerySet[Contact]:
    """Contacts whose names, handle or phone contain `q` (through the trigram index on
    PostgreSQL)."""
    if connection.vendor == "postgresql":
        return contacts.alias(haystack=ContactHaystack()).filter(haystack__ilike=_like(q))
    return contacts.filter(
        Q(custom_name__icontains=q)
        | Q(name__icontains=q)
        | Q(username__icontains=q)
        | Q(phone__icontains=q)
    )


def _search(queryset: QuerySet[Conversation], organization_id: int, q: str) -> QuerySet:
    """Conversations whose contact's name, handle or phone contains `q`, or in which every
    word of `q` starts a word written by either side. On PostgreSQL both read indexes:
    the contacts' trigram index and the conversations' words (`ConversationWord`, kept
    by the database); elsewhere `q` is looked for in the contacts and messages."""
    contacts = _contacts_matching(Contact.objects.filter(organization_id=organization_id), q)
    if connection.vendor == "postgresql":
        written = ConversationWord.objects.none().values("conversation_id")
        for position, word in enumerate(_words_of(q)):
            with_word = ConversationWord.objects.filter(
                organization_id=organization_id, word__startswith=word
            ).values("conversation_id")
            written = with_word.filter(conversation_id__in=written) if position else with_word
    else:
        written = Message.objects.filter(organization_id=organization_id, text__icontains=q).values(
            "conversation_id"
        )
    return queryset.filter(Q(contact_id__in=contacts.values("pk")) | Q(pk__in=written))


def _filtered(membership: Membership, filters: ListFilters) -> QuerySet[Conversation]:
    """Every filter but the tab's."""
    queryset = Conversation.objects.for_org(membership.organization).filter(
        last_message_at__isnull=False
    )
    if filters.status != "all":
        queryset = queryset.filter(status=filters.status)
    if filters.channel:
        queryset = queryset.filter(channel_id=filters.channel)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.assignee:
        queryset = queryset.filter(assignee_id=filters.assignee)
    if filters.label:
        queryset = queryset.filter(labels=filters.label)
    if filters.unread:
        queryset = queryset.filter(unread_count__gt=0)
    if filters.q:
        queryset = _search(queryset, membership.organization_id, filters.q)
    return queryset


def _tab(queryset: QuerySet[Conversation], membership: Membership, tab: str) -> QuerySet:
    if tab == "mine":
        return queryset.filter(assignee_id=membership.user_id)
    if tab == "unassigned":
        return queryset.filter(assignee__isnull=True)
    return queryset


def tab_counts(membership: Membership, filters: ListFilters) -> dict[str, int]:
    """How many conversations each tab holds with the other filters, and how many of
    them are unread, in one query."""
    return _filtered(membership, filters).aggregate(
        # Counting a column the covering index holds (never empty), not the id it lacks.
        mine=Count("organization", filter=Q(assignee_id=membership.user_id)),
        unassigned=Count("organization", filter=Q(assignee__isnull=True)),
        all=Count("organization"),
        unread=Count("organization", filter=Q(unread_count__gt=0)),
    )


@dataclass(frozen=True)
class Preview:
    """What a list row shows of its conversation's latest message."""

    outbound: bool
    deleted: bool
    forwarded: bool  # emptied by bridge mode
    text: str
    attachment_type: str
    author_name: str  # the member who wrote an outbound message, if one did

    @classmethod
    def from_row(cls, row: dict | None) -> Preview | None:
        if not row:
            return None
        author = ""
        if row["author_email"]:  # an outbound message a member wrote
            author = User(full_name=row["author_name"], email=row["author_email"]).get_short_name()
        return cls(
            outbound=row["direction"] == Direction.OUTBOUND,
            deleted=bool(row["deleted"]),
            forwarded=bool(row["dropped_at"]),
            text=Truncator(row["text"] or "").chars(PREVIEW_LENGTH),
            attachment_type=row["attachment_type"] or "",
            author_name=author,
        )


def _latest_message_preview() -> Subquery:
    """The latest message's preview fields as one JSON object, read with the row."""
    latest = Message.objects.filter(conversation=OuterRef("pk")).order_by("-sent_at", "-pk")
    return Subquery(
        latest.values(
            preview=JSONObject(
                direction="direction",
                deleted="is_deleted",
                dropped_at="contents_dropped_at",
                text=Left("text", PREVIEW_LENGTH + 1),  # one more tells a longer one
                attachment_type=KT("attachments__0__type"),
                author_name="author__full_name",
                author_email="author__email",
            )
        )[:1],
        output_field=JSONField(),
    )


class JSONArrayAgg(Aggregate):
    """A group's values as one JSON array."""

    function = "JSONB_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra_context)


def _label_ids() -> Subquery:
    """The ids of the conversation's labels, read with the row."""
    return Subquery(
        Conversation.labels.through.objects.filter(conversation=OuterRef("pk"))
        .values("conversation")
        .annotate(ids=JSONArrayAgg("label_id"))
        .values("ids"),
        output_field=JSONField(),
    )


def conversation_page(
    membership: Membership, filters: ListFilters, labels: list[Label], after: Cursor | None = None
) -> ListPage:
    """One page of the list, newest activity first, after `after` (keyset: no OFFSET).
    Each row carries `preview` (its latest message) and `label_list` (of `labels`)."""
    queryset = _tab(_filtered(membership, filters), membership, filters.tab)
    if after is not None:
        # The first condition repeats the second's bound so that the index on the
        # activity time can serve it.
        queryset = queryset.filter(last_message_at__lte=after.at).filter(
            Q(last_message_at__lt=after.at) | Q(last_message_at=after.at, pk__lt=after.pk)
        )
    newest_first = ("-last_message_at", "-pk")
    # The page's rows are chosen first, then only they are joined to what they show.
    page_ids = queryset.order_by(*newest_first).values("pk")[: PAGE_SIZE + 1]
    rows = list(
        Conversation.objects.filter(pk__in=Subquery(page_ids))
        .select_related("channel", "contact", "assignee")
        .annotate(preview_row=_latest_message_preview(), label_ids=_label_ids())
        .order_by(*newest_first)
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for row in rows:
        row.preview = Preview.from_row(row.preview_row)
        label_ids = set(row.label_ids or ())
        row.label_list = [label for label in labels if label.pk in label_ids]
    next_cursor = Cursor(rows[-1].last_message_at, rows[-1].pk) if more else None
    return ListPage(rows, next_cursor)


@dataclass
class Timeline:
    """A page of a conversation: messages and notes in time order, oldest first."""

    items: list[Message | Note]
    older: Cursor | None


def _quoted_message() -> Case:
    """What a reply shows of the message it answers (in the same conversation), as one
    JSON object read with the reply; nothing for a message that answers none."""
    answered = Message.objects.filter(
        channel=OuterRef("channel"),
        external_id=OuterRef("reply_to_external_id"),
        conversation=OuterRef("conversation"),
    ).exclude(external_id="")  # as the unique index on Meta's ids says, so that it serves
    quote = JSONObject(text="text", attachment_type=KT("attachments__0__type"))
    return Case(
        When(~Q(reply_to_external_id=""), then=Subquery(answered.values(quote=quote)[:1])),
        output_field=JSONField(),
    )


def timeline_page(conversation: Conversation, before: Cursor | None = None) -> Timeline:
    """The latest messages of a conversation (or those before `before`), with the notes
    written among them. The conversation comes from `with_page_hints`."""
    messages = (
        conversation.messages.select_related("author")
        .annotate(quoted=_quoted_message())
        .order_by("-sent_at", "-pk")
    )
    if before is not None:
        messages = messages.filter(
            Q(sent_at__lt=before.at) | Q(sent_at=before.at, pk__lt=before.pk)
        )
    page = list(messages[: TIMELINE_PAGE_SIZE + 1])
    more = len(page) > TIMELINE_PAGE_SIZE
    page = page[:TIMELINE_PAGE_SIZE]
    # Most messages have no files: ask for the stored files of those that do, if any.
    prefetch_related_objects([message for message in page if message.attachments], "files")
    for message in page:
        message.stored_files = (
            {stored.position: stored for stored in message.files.all()}
            if message.attachments
            else {}
        )
    notes = Note.objects.none()
    if conversation.has_notes:
        notes = conversation.notes.select_related("author")
    if more:
        notes = notes.filter(created_at__gte=page[-1].sent_at)
    if before is not None:
        notes = notes.filter(created_at__lt=before.at)
    items: list[Message | Note] = [*page, *notes]
    items.sort(key=_moment)
    older = Cursor(page[-1].sent_at, page[-1].pk) if more else None
    return Timeline(items, older)


def _moment(item: Message | Note) -> tuple[datetime, bool, int]:
    """Where an item goes in time order: messages of the same second in the order they
    were stored, a note after the messages of its moment."""
    if isinstance(item, Message):
        return item.sent_at or item.created_at, False, item.pk
    return item.created_at, True, item.pk


def _others_of_contact(organization_id, contact_id, pk) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        organization_id=organization_id, contact_id=contact_id
    ).exclude(pk=pk)


def with_page_hints(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Conversations that also say whether they have notes (`has_notes`) and whether their
    customer has others (`has_earlier`): most have neither, and a page then asks for
    neither."""
    others = _others_of_contact(OuterRef("organization_id"), OuterRef("contact_id"), OuterRef("pk"))
    return queryset.annotate(
        has_notes=Exists(Note.objects.filter(conversation=OuterRef("pk"))),
        has_earlier=Exists(others),
    )


def earlier_conversations(conversation: Conversation) -> list[Conversation]:
    """The customer's other conversations on the same channel (comment threads, say);
    the conversation comes from `with_page_hints`."""
    if not conversation.has_earlier:
        return []
    others = _others_of_contact(
        conversation.organization_id, conversation.contact_id, conversation.pk
    )
    return list(others.order_by("-last_message_at")[:10])


class Choices:
    """What the inbox's filters and forms offer: the organisation's members, channels
    and labels, each read when a pane first needs it. Beside an open conversation each
    label also says, as `on_conversation`, whether the conversation has it."""

    def __init__(self, organization: Organization, conversation: Conversation | None = None):
        self.organization = organization
        self.conversation = conversation

    @cached_property
    def members(self) -> list[Membership]:
        return list(
            Membership.objects.for_org(self.organization)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )

    @cached_property
    def channels(self) -> list[Channel]:
        return list(Channel.objects.for_org(self.organization).order_by("kind", "name"))

    @cached_property
    def labels(self) -> list[Label]:
        labels = Label.objects.for_org(self.organization)
        if self.conversation is not None:
            has_it = Conversation.labels.through.objects.filter(
                conversation_id=self.conversation.pk, label_id=OuterRef("pk")
            )
            labels = labels.annotate(on_conversation=Exists(has_it))
        return list(labels)


def saved_replies(organization: Organization) -> QuerySet[SavedReply]:
    return SavedReply.objects.for_org(organization)


def labels_of(organization: Organization) -> QuerySet[Label]:
    return Label.objects.for_org(organization)


def open_unread_count(organization: Organization) -> int:
    """Open conversations with something unread, for the tab title."""
    return (
        Conversation.objects.for_org(organization)
        .filter(status=ConversationStatus.OPEN, unread_count__gt=0)
        .count()
    )


def new_for_member(membership: Membership, since: datetime, limit: int) -> list[Message]:
    """Customers' latest messages recorded after `since` in conversations assigned to the
    member, newest first."""
    return list(
        Message.objects.for_org(membership.organization)
        .filter(
            direction=Direction.INBOUND,
            created_at__gt=since,
            conversation__assignee_id=membership.user_id,
        )
        .select_related("conversation__contact")
        .order_by("-created_at")[:limit]
    )


# The organisation's overview.

WAITING_SHOWN = 5
OPEN = Q(conversations__status=ConversationStatus.OPEN)


@dataclass(frozen=True)
class Workload:
    """Open conversations by channel: every connected channel, and a disconnected one
    while it still has open conversations. Each channel carries `open_count` and
    `unassigned_count`."""

    channels: list[Channel]

    @property
    def connected(self) -> list[Channel]:
        return [c for c in self.channels if c.status != ChannelStatus.DISCONNECTED]

    @property
    def open_count(self) -> int:
        return sum(channel.open_count for channel in self.channels)

    @property
    def unassigned_count(self) -> int:
        return sum(channel.unassigned_count for channel in self.channels)

    @property
    def needing_attention(self) -> list[Channel]:
        """Connected channels with a problem someone must act on (`Channel.problems`)."""
        return [channel for channel in self.connected if channel.problems]


def workload_for_org(organization: Organization) -> Workload:
    """The organisation's channels with their open and unassigned conversations, in one
    query."""
    channels = (
        Channel.objects.for_org(organization)
        .annotate(
            open_count=Count("conversations", filter=OPEN),
            unassigned_count=Count(
                "conversations", filter=OPEN & Q(conversations__assignee__isnull=True)
            ),
        )
        .order_by("kind", "name", "pk")
    )
    return Workload(
        channels=[
            channel
            for channel in channels
            if channel.status != ChannelStatus.DISCONNECTED or channel.open_count
        ]
    )


def conversations_waiting_longest(
    organization: Organization, limit: int = WAITING_SHOWN
) -> QuerySet[Conversation]:
    """Open conversations whose last message came from the customer, the longest waiting
    first, with their contact and channel. The customer's message is the last one when
    no later message (a reply, from Padu or from Meta's own apps) moved the
    conversation's clock past it."""
    return (
        Conversation.objects.for_org(organization)
        .filter(
            status=ConversationStatus.OPEN,
            last_inbound_at__isnull=False,
            last_inbound_at__gte=F("last_message_at"),
        )
        .select_related("contact", "channel")
        .order_by("last_inbound_at", "pk")[:limit]
    )


API_PAGE_SIZE = 50


@dataclass
class MessagePage:
    messages: list[Message]
    older: Cursor | None


def messages_page(conversation: Conversation, before: Cursor | None = None) -> MessagePage:
    """The conversation's messages, newest first, before `before` (keyset), each with
    its stored files as `api_files`."""
    messages = conversation.messages.select_related("author").order_by("-sent_at", "-pk")
    if before is not None:
        messages = messages.filter(sent_at__lte=before.at).filter(
            Q(sent_at__lt=before.at) | Q(sent_at=before.at, pk__lt=before.pk)
        )
    page = list(messages[: API_PAGE_SIZE + 1])
    more = len(page) > API_PAGE_SIZE
    page = page[:API_PAGE_SIZE]
    prefetch_related_objects([message for message in page if message.attachments], "files")
    for message in page:
        message.api_files = list(message.files.all()) if message.attachments else []
    return MessagePage(page, Cursor(page[-1].sent_at, page[-1].pk) if more else None)


@dataclass
class ContactPage:
    contacts: list[Contact]
    after: int | None


def contacts_page(
    organization: Organization, *, q: str = "", channel: int | None = None, after: int = 0
) -> ContactPage:
    """The organisation's contacts, newest first, after the contact `after` (keyset on
    the id); `q` finds names, usernames, phones and e-mail addresses."""
    contacts = Contact.objects.for_org(organization).order_by("-pk")
    if channel:
        contacts = contacts.filter(channel_id=channel)
    if after:
        contacts = contacts.filter(pk__lt=after)
    if q:
        matching = _contacts_matching(Contact.objects.for_org(organization), q)
        contacts = contacts.filter(Q(pk__in=matching.values("pk")) | Q(email__iexact=q))
    page = list(contacts[: API_PAGE_SIZE + 1])
    more = len(page) > API_PAGE_SIZE
    page = page[:API_PAGE_SIZE]
    return ContactPage(page, page[-1].pk if more else None)


def conversation_with_labels(conversation: Conversation) -> Conversation:
    """The conversation with its labels as `label_list`, as `conversation_page` gives."""
    conversation.label_list = list(conversation.labels.all())
    return conversation


def endpoints_of(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.for_org(organization)


def delivery_log(endpoint: WebhookEndpoint, limit: int = 50) -> list[EventDelivery]:
    """The endpoint's latest deliveries, newest first, with their events."""
    return list(endpoint.deliveries.select_related("event").order_by("-pk")[:limit])

"""A large inbox made fast with SQL, for bench/inbox.py: organisations, members, channels
and labels through the ORM (a few hundred rows), then contacts, conversations, labels on
them and messages with `INSERT … SELECT … generate_series` (millions of rows), the
secondary indexes built once after the load, then VACUUM ANALYZE (as autovacuum leaves a
live database: statistics, and the visibility map that index-only scans need).

One organisation is large (`BIG_CONVERSATIONS` × scale conversations with about ten
messages each, one conversation with `LONG_CONVERSATION` × scale messages), beside
`OTHER_ORGANIZATIONS` of 2,000–10,000 conversations × scale.
"""

from __future__ import annotations

import importlib
import os
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import Membership, Organization, Role, User
from bench import harness
from channels_meta.models import Channel, MessageTemplate
from channels_meta.simulator.traffic import LINES
from inbox.models import Contact, Conversation, Label, Message, SavedReply

WORDS = importlib.import_module("inbox.migrations.0016_conversation_words_backfill")

BIG_CONVERSATIONS = 100_000
BIG_MESSAGES_PER_CONVERSATION = 10
LONG_CONVERSATION = 50_000
OTHER_ORGANIZATIONS = 20
OTHER_MESSAGES_PER_CONVERSATION = 8
BIG_SLUG = "bench-big"
# The large organisation's accounts at Meta, as the simulator knows them in the live part.
PAGE_ID = "1067000000000001"
INSTAGRAM_ID = "17841400000000001"
WABA_ID = "2067000000000001"
PHONE_NUMBER_ID = "3067000000000001"
LABELS = ["VIP", "Order", "Complaint", "Refund", "Wholesale", "Follow-up", "Spam", "New"]
SEARCH_WORD = "refund"
NAME_FRAGMENT = "yılm"
TABLES = [
    "inbox_contact",
    "inbox_conversation",
    "inbox_conversation_labels",
    "inbox_message",
    "inbox_conversationword",
]

FIRST = [
    ("Ayşe", "ayse"), ("Mehmet", "mehmet"), ("Zeynep", "zeynep"), ("Emre", "emre"),
    ("Elif", "elif"), ("Mustafa", "mustafa"), ("Fatma", "fatma"), ("Can", "can"),
    ("Merve", "merve"), ("Burak", "burak"), ("مریم", "maryam"), ("سارا", "sara"),
    ("علی", "ali"), ("رضا", "reza"), ("Fatima", "fatima"), ("Omar", "omar"),
    ("Олег", "oleg"), ("Анна", "anna"), ("प्रिया", "priya"), ("Rahul", "rahul"),
    ("João", "joao"), ("Ana", "ana"), ("Emily", "emily"), ("James", "james"),
    ("Sofia", "sofia"), ("Lucas", "lucas"), ("Hana", "hana"), ("Yusuf", "yusuf"),
    ("Leila", "leila"), ("Daniel", "daniel"),
]  # fmt: skip
LAST = [
    ("Yılmaz", "yilmaz"), ("Demir", "demir"), ("Kaya", "kaya"), ("Şahin", "sahin"),
    ("Çelik", "celik"), ("Öztürk", "ozturk"), ("Aydın", "aydin"), ("Arslan", "arslan"),
    ("Doğan", "dogan"), ("Koç", "koc"), ("رضایی", "rezaei"), ("احمدی", "ahmadi"),
    ("Hosseini", "hosseini"), ("Zahra", "zahra"), ("Смирнов", "smirnov"),
    ("Иванова", "ivanova"), ("शर्मा", "sharma"), ("Patel", "patel"), ("Silva", "silva"),
    ("Santos", "santos"), ("Clarke", "clarke"), ("Smith", "smith"), ("García", "garcia"),
    ("Rossi", "rossi"), ("Nguyen", "nguyen"), ("Kim", "kim"), ("Haddad", "haddad"),
    ("Mansour", "mansour"), ("Novak", "novak"), ("Berg", "berg"),
]  # fmt: skip
INBOUND = [
    *LINES,
    "Siparişim ne zaman gelir?",
    "Kargo takip numarası alabilir miyim?",
    "How much is shipping to Izmir?",
    "The package arrived damaged, I would like a refund please",
    "Do you have this in size M?",
    "Hangi renkler var?",
    "Can I pay at the door?",
    "Fiyat nedir?",
    "Thanks, got it!",
    "Is it possible to pick up from the shop?",
    "Bu ürün stokta var mı?",
    "Can you send me the menu?",
    "Rezervasyon yapmak istiyorum, 4 kişi",
    "What time do you close today?",
    "Ok 👍",
    "Teşekkür ederim",
    "Is there a gluten free option?",
    "Adresiniz nedir?",
    "I sent the payment, can you check?",
    "Hello, is anyone there?",
    "Kapıda ödeme var mı?",
    "Could you send a photo of the back?",
    "Harika, iki tane alıyorum",
    "Do you ship abroad?",
    "İndirim kodu çalışmıyor",
    "My order number is in the previous message",
    "Yarın teslim edilebilir mi?",
    "Is the wholesale price different?",
    "Bir sorum var",
    "Can I still cancel?",
]
OUTBOUND = [
    "Merhaba, evet 09:00–22:00 arası açığız.",
    "Thanks for your message! We will get back to you shortly.",
    "Your order has shipped, here is the tracking link.",
    "Evet, stokta var.",
    "Kargo ücreti 49 TL, 500 TL üzeri ücretsiz.",
    "Sorry for the wait! Checking now.",
    "Siparişiniz yola çıktı 🚚",
    "We deliver every day, including Sundays.",
    "Of course, I have changed it.",
    "Teşekkür ederiz, iyi günler!",
    "Could you share your order number?",
    "Payment received, thank you.",
    "Rezervasyonunuz alındı.",
    "Yes, M is available in black and blue.",
    "Adresimiz: Moda Cad. No 12, Kadıköy",
]
STATUSES_OUT = ["read"] * 14 + ["delivered"] * 4 + ["sent"] * 2


@dataclass
class Dataset:
    """What the measurements need to know about the generated inbox."""

    organization: Organization
    agent: User
    channels: dict[str, Channel]
    labels: dict[str, Label]
    conversation_id: int
    long_conversation_id: int
    deep_cursor: tuple[datetime, int]
    phone_fragment: str
    counts: dict[str, int]


def _organization(number: int, slug: str, members: int) -> tuple[Organization, list[User]]:
    organization = Organization.objects.create(name=f"Bench {number}", slug=slug)
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                email=f"member{m}@{slug}.example",
                full_name=f"{FIRST[(number + m) % len(FIRST)][0]} {LAST[m % len(LAST)][0]}",
                password="!",  # noqa: S106 - unusable: benchmark members sign in by session
                email_confirmed_at=now,
            )
            for m in range(members)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user=user,
                organization=organization,
                role=Role.OWNER if m == 0 else Role.ADMIN if m < 3 else Role.AGENT,
            )
            for m, user in enumerate(users)
        ]
    )
    return organization, users


def _channels(organization: Organization, number: int) -> dict[str, Channel]:
    if number == 0:
        ids = {"whatsapp": PHONE_NUMBER_ID, "instagram": INSTAGRAM_ID, "messenger": PAGE_ID}
    else:
        ids = {kind: f"{prefix}{number:013d}" for kind, prefix in (
            ("whatsapp", "39"), ("instagram", "178"), ("messenger", "19"))}  # fmt: skip
    channels = {}
    for kind, external_id in ids.items():
        channel = Channel.objects.create(
            organization=organization,
            kind=kind,
            external_id=external_id,
            waba_id=WABA_ID if kind == "whatsapp" and number == 0 else "",
            name=f"{organization.name} {kind}",
        )
        channel.set_token(f"EAAGbench{number:06d}{kind}")
        channel.save(update_fields=["token_ciphertext"])
        channels[kind] = channel
    MessageTemplate.objects.bulk_create(
        [
            MessageTemplate(
                organization=organization,
                channel=channels["whatsapp"],
                name=name,
                language="en_US",
                status="APPROVED",
                category="UTILITY",
                components=[{"type": "BODY", "text": text}],
            )
            for name, text in (
                ("order_update", "Your order {{1}} is on its way."),
                ("hello_again", "Hello {{1}}, we missed you!"),
                ("appointment_reminder", "See you on {{1}}."),
            )
        ]
    )
    return channels


@dataclass(frozen=True)
class Size:
    """One organisation to make: its slug, members, conversations and the average number
    of messages in each."""

    slug: str
    members: int
    conversations: int
    per_conversation: int


def sizes(scale: float, seed: int = 7) -> list[Size]:
    """The large organisation first, then the others, at `scale`."""
    chance = random.Random(seed)  # noqa: S311 - sizes, repeatable from run to run
    big = max(10, int(BIG_CONVERSATIONS * scale))
    made = [Size(BIG_SLUG, 15, big, BIG_MESSAGES_PER_CONVERSATION)]
    for number in range(1, OTHER_ORGANIZATIONS + 1):
        members = chance.randint(2, 8)
        conversations = max(10, int(chance.randint(2_000, 10_000) * scale))
        made.append(
            Size(f"bench-{number}", members, conversations, OTHER_MESSAGES_PER_CONVERSATION)
        )
    return made


def _people(organizations: list[Size]) -> list[tuple]:
    """Each organisation with its members, channels and labels, and how many
    conversations and messages per conversation it gets."""
    made = []
    for number, size in enumerate(organizations):
        organization, users = _organization(number, size.slug, size.members)
        channels = _channels(organization, number)
        labels = Label.objects.bulk_create(
            [Label(organization=organization, name=name) for name in LABELS]
        )
        SavedReply.objects.bulk_create(
            [
                SavedReply(organization=organization, shortcut=f"reply{n}", text=OUTBOUND[n])
                for n in range(10)
            ]
        )
        made.append(
            (organization, users, channels, labels, size.conversations, size.per_conversation)
        )
    return made


CONTACTS = """
INSERT INTO inbox_contact (organization_id, channel_id, external_id, other_id, name, username,
    phone, profile_picture_url, marketing_opt_out, custom_name, email, notes, created_at,
    updated_at /*defaults*/)
SELECT org_id, channels[ch],
    CASE WHEN ch = 1 THEN phone ELSE (1000000000000000 + org_id * 10000000 + i)::text END,
    '',
    CASE WHEN r < (CASE ch WHEN 3 THEN 0.6 ELSE 0.9 END) THEN firsts[f] || ' ' || lasts[l]
        ELSE '' END,
    CASE WHEN ch = 2 THEN firsts_ascii[f] || '.' || lasts_ascii[l] || (i %% 1000) ELSE '' END,
    CASE WHEN ch = 1 THEN phone ELSE '' END,
    '', false, CASE WHEN r > 0.97 THEN firsts[f] || ' (' || lasts[l] || ')' ELSE '' END, '', '',
    now() - interval '400 days', now() - interval '400 days' /*default values*/
FROM (
    SELECT o.org_id, o.channels, i,
        CASE WHEN i %% 20 < 9 THEN 1 WHEN i %% 20 < 16 THEN 2 ELSE 3 END AS ch,
        1 + floor(random() * %(first_count)s)::int AS f,
        1 + floor(random() * %(last_count)s)::int AS l,
        random() AS r,
        (ARRAY['90', '90', '90', '90', '98', '7', '91', '44', '1', '55'])
            [1 + floor(random() * 10)::int]
            || lpad(floor(random() * 1e10)::bigint::text, 10, '0') AS phone
    FROM bench_org o, generate_series(1, o.conversations) i
) made, (SELECT %(firsts)s::text[] AS firsts, %(firsts_ascii)s::text[] AS firsts_ascii,
    %(lasts)s::text[] AS lasts, %(lasts_ascii)s::text[] AS lasts_ascii) names
ORDER BY random()
"""

# Recent conversations are mostly open, older ones mostly resolved; a customer's unread
# messages are the last ones of an open (or pending) conversation.
CONVERSATIONS = """
INSERT INTO inbox_conversation (organization_id, channel_id, contact_id, kind, status,
    assignee_id, snoozed_until, media_id, comment_id, comment_at, private_reply_at, referral,
    last_message_at, last_inbound_at, unread_count, created_at /*defaults*/)
SELECT organization_id, channel_id, contact_id, kind, status,
    CASE WHEN r_assign < 0.6 THEN members[1 + floor(r_assign / 0.6 * cardinality(members))::int]
        END,
    CASE WHEN status = 'snoozed' THEN now() + interval '2 days' END,
    CASE WHEN kind = 'comment' THEN 'media' || (contact_id %% 40) ELSE '' END,
    CASE WHEN kind = 'comment' THEN 'c' || contact_id ELSE '' END,
    CASE WHEN kind = 'comment' THEN at - interval '1 hour' END,
    NULL, '{}'::jsonb,
    at,
    at - CASE WHEN r_unread < 0.5 THEN interval '0' ELSE interval '9 minutes' END,
    CASE WHEN status = 'open' AND r_unread < 0.4 THEN 1 + floor(r_unread * 12)::int
        WHEN status = 'pending' AND r_unread < 0.1 THEN 1 ELSE 0 END,
    at - interval '30 days' /*default values*/
FROM (
    SELECT c.organization_id, c.channel_id, c.id AS contact_id, o.members, at,
        CASE WHEN c.channel_id = o.channels[2] AND c.id %% 10 = 0 THEN 'comment' ELSE 'dm' END
            AS kind,
        CASE WHEN at > now() - interval '14 days' THEN
            CASE WHEN r_status < 0.6 THEN 'open' WHEN r_status < 0.75 THEN 'pending'
                WHEN r_status < 0.95 THEN 'resolved' ELSE 'snoozed' END
        ELSE
            CASE WHEN r_status < 0.15 THEN 'open' WHEN r_status < 0.2 THEN 'pending'
                WHEN r_status < 0.98 THEN 'resolved' ELSE 'snoozed' END
        END AS status,
        r_assign, r_unread
    FROM (
        SELECT c.*, now() - interval '365 days' * power(random(), 2) AS at,
            random() AS r_status, random() AS r_assign, random() AS r_unread
        FROM inbox_contact c
    ) c JOIN bench_org o ON o.org_id = c.organization_id
) made
ORDER BY at
"""

CONVERSATION_LABELS = """
INSERT INTO inbox_conversation_labels (conversation_id, label_id)
SELECT c.id, o.labels[1 + (c.id %% cardinality(o.labels))]
FROM inbox_conversation c JOIN bench_org o ON o.org_id = c.organization_id
WHERE random() < 0.3
UNION
SELECT c.id, o.labels[1 + ((c.id + 3) %% cardinality(o.labels))]
FROM inbox_conversation c JOIN bench_org o ON o.org_id = c.organization_id
WHERE random() < 0.1
"""

# Each conversation's messages end at its last activity, nine minutes apart; the last
# `unread_count` are the customer's; one in ten answers the message before it.
MESSAGES = """
INSERT INTO inbox_message (organization_id, channel_id, conversation_id, direction, kind,
    external_id, text, attachments, reply_to_external_id, extra, reaction, status, error_code,
    error_reason, sent_at, delivered_at, read_at, is_deleted, author_id, send_mode,
    send_claimed_at, created_at /*defaults*/)
SELECT organization_id, channel_id, conversation_id, direction, 'message',
    'm_' || conversation_id || '_' || k,
    CASE WHEN r_media < 0.05 THEN ''
        WHEN direction = 'in' THEN inbound[1 + floor(r_text * cardinality(inbound))::int]
            || CASE WHEN r_text < 0.2 THEN ' #' || (10000 + floor(r_media * 90000)::int) ELSE '' END
        ELSE outbound[1 + floor(r_text * cardinality(outbound))::int] END,
    CASE WHEN r_media < 0.05 THEN '[{"type": "image", "url": ""}]'::jsonb ELSE '[]'::jsonb END,
    CASE WHEN r_text > 0.9 AND k > 1 THEN 'm_' || conversation_id || '_' || (k - 1) ELSE '' END,
    '{}'::jsonb, '',
    CASE WHEN direction = 'in' THEN 'received'
        ELSE statuses[1 + floor(r_text * cardinality(statuses))::int] END,
    NULL, '', sent_at, NULL, NULL, false,
    CASE WHEN direction = 'out' AND r_media < 0.8
        THEN members[1 + floor(r_media * cardinality(members))::int] END,
    CASE WHEN direction = 'out' AND r_media < 0.8 THEN 'response' ELSE '' END,
    NULL, sent_at + interval '1 second' /*default values*/
FROM (
    SELECT c.organization_id, c.channel_id, c.id AS conversation_id, o.members, k,
        c.last_message_at - (n - k) * interval '9 minutes' AS sent_at,
        CASE WHEN k > n - c.unread_count OR random() < 0.55 THEN 'in' ELSE 'out' END
            AS direction,
        random() AS r_text, random() AS r_media
    FROM inbox_conversation c
    JOIN bench_org o ON o.org_id = c.organization_id
    CROSS JOIN LATERAL (
        SELECT 1 + abs(hashint8(c.id)) %% (2 * o.per_conversation - 1) AS n
    ) size
    CROSS JOIN LATERAL generate_series(1, size.n) k
    WHERE c.id <> %(long_id)s
    UNION ALL
    SELECT c.organization_id, c.channel_id, c.id, o.members, k,
        c.last_message_at - (%(long_count)s - k) * interval '3 minutes',
        CASE WHEN random() < 0.55 THEN 'in' ELSE 'out' END, random(), random()
    FROM inbox_conversation c JOIN bench_org o ON o.org_id = c.organization_id,
        generate_series(1, %(long_count)s) k
    WHERE c.id = %(long_id)s
) made, (SELECT %(inbound)s::text[] AS inbound, %(outbound)s::text[] AS outbound,
    %(statuses)s::text[] AS statuses) lines
ORDER BY sent_at
"""


INSERTED = re.compile(r"INSERT INTO \w+ \(([^)]*)\)")


def _with_defaults(model: type[Model], sql: str, params: dict) -> tuple[str, dict]:
    """`sql` also filling the model's NOT NULL columns it does not name with their
    defaults, so that a field added with a default does not stop the generator."""
    listed = INSERTED.search(sql.replace("/*defaults*/", "")).group(1)
    named = {column.strip() for column in listed.split(",")}
    missing = [
        field
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.column not in named
    ]
    values = {
        f"default_{field.column}": field.get_db_prep_value(field.get_default(), connection)
        for field in missing
    }
    sql = sql.replace("/*defaults*/", "".join(f", {field.column}" for field in missing))
    sql = sql.replace("/*default values*/", "".join(f", %({name})s" for name in values))
    return sql, {**params, **values}


def _secondary_indexes() -> list[tuple[str, str]]:
    """The inbox tables' indexes that back no constraint: (name, definition)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            [TABLES],
        )
        return cursor.fetchall()


def _load(made: list, long_count: int) -> int:
    names = {
        "firsts": [first for first, _ascii in FIRST],
        "firsts_ascii": [ascii for _first, ascii in FIRST],
        "lasts": [last for last, _ascii in LAST],
        "lasts_ascii": [ascii for _last, ascii in LAST],
        "first_count": len(FIRST),
        "last_count": len(LAST),
    }
    lines = {
        "inbound": INBOUND,
        "outbound": OUTBOUND,
        "statuses": STATUSES_OUT,
    }
    with connection.cursor() as cursor:
        # The rows are consistent by construction: no foreign-key trigger per row.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "CREATE TEMP TABLE bench_org (org_id bigint, conversations int, "
            "per_conversation int, channels bigint[], labels bigint[], members bigint[]) "
            "ON COMMIT DROP"
        )
        for organization, users, channels, labels, conversations, per_conversation in made:
            cursor.execute(
                "INSERT INTO bench_org VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    organization.pk,
                    conversations,
                    per_conversation,
                    [channels[kind].pk for kind in ("whatsapp", "instagram", "messenger")],
                    [label.pk for label in labels],
                    [user.pk for user in users],
                ],
            )
        _timed(cursor, "contacts", CONTACTS, names, Contact)
        _timed(cursor, "conversations", CONVERSATIONS, {}, Conversation)
        big = made[0][0]
        # The long conversation: a regular customer's, on WhatsApp, active an hour ago.
        cursor.execute(
            "UPDATE inbox_conversation SET last_message_at = now() - interval '1 hour', "
            "status = 'open', unread_count = 0 WHERE id = (SELECT min(id) FROM "
            "inbox_conversation WHERE organization_id = %s AND channel_id = %s) RETURNING id",
            [big.pk, made[0][2]["whatsapp"].pk],
        )
        long_id = cursor.fetchone()[0]
        _timed(cursor, "conversation labels", CONVERSATION_LABELS, {})
        _timed(
            cursor,
            "messages",
            MESSAGES,
            {**lines, "long_id": long_id, "long_count": long_count},
            Message,
        )
    return long_id


def _timed(cursor, what: str, sql: str, params: dict, model: type[Model] | None = None) -> None:
    if model is not None:
        sql, params = _with_defaults(model, sql, params)
    began = time.monotonic()
    cursor.execute(sql, params)
    print(f"   {what}: {cursor.rowcount:,} rows in {time.monotonic() - began:.1f} s", flush=True)


def prepared(*, reuse: bool) -> Dataset:
    """The data a run measures: a kept database described again (`reuse`), or a new one
    of BENCH_INBOX_SCALE (default 1)."""
    if reuse:
        return describe()
    scale = float(os.environ.get("BENCH_INBOX_SCALE", "1"))
    print(f"\n0. Data (BENCH_INBOX_SCALE={scale:g})")
    harness.database_reset()
    return generate(scale=scale)


def generate(*, scale: float, seed: int = 7) -> Dataset:
    """Fill the (empty, migrated) database and describe what the measurements use."""
    long_count = max(100, int(LONG_CONVERSATION * scale))
    return describe(fill(sizes(scale, seed), long_count=long_count))


def fill(organizations: list[Size], *, long_count: int) -> int:
    """Fill the (empty, migrated) database with `organizations`, the first holding a
    conversation of `long_count` messages; returns that conversation's id."""
    began = time.monotonic()
    made = _people(organizations)
    indexes = _secondary_indexes()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        long_id = _load(made, long_count)
    # What the database's triggers (off while loading) keep for search, as the migration
    # reads it from messages stored before.
    started = time.monotonic()
    WORDS.words_backfill(connection)
    print(f"   conversation words in {time.monotonic() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        started = time.monotonic()
        for _name, definition in indexes:
            cursor.execute(definition)
        print(f"   {len(indexes)} indexes built in {time.monotonic() - started:.1f} s")
        cursor.execute("VACUUM ANALYZE")
    print(f"   data ready in {time.monotonic() - began:.0f} s", flush=True)
    return long_id


def describe(long_conversation_id: int | None = None) -> Dataset:
    """The large organisation's facts, from a database `generate` filled."""
    organization = Organization.objects.get(slug=BIG_SLUG)
    channels = {c.kind: c for c in Channel.objects.filter(organization=organization)}
    with connection.cursor() as cursor:
        if long_conversation_id is None:
            cursor.execute(
                "SELECT conversation_id FROM inbox_message WHERE organization_id = %s "
                "GROUP BY conversation_id ORDER BY count(*) DESC LIMIT 1",
                [organization.pk],
            )
            long_conversation_id = cursor.fetchone()[0]
        # A typical conversation: open, on WhatsApp, with about ten messages.
        cursor.execute(
            "SELECT c.id FROM inbox_conversation c WHERE c.organization_id = %s "
            "AND c.status = 'open' AND c.channel_id = %s AND c.id <> %s AND "
            "(SELECT count(*) FROM inbox_message m WHERE m.conversation_id = c.id) "
            "BETWEEN 9 AND 11 "
            "ORDER BY c.last_message_at DESC LIMIT 1",
            [organization.pk, channels["whatsapp"].pk, long_conversation_id],
        )
        conversation_id = cursor.fetchone()[0]
        # Deep in the default list (open conversations, newest first): 90% of the way down.
        cursor.execute(
            "SELECT count(*) FROM inbox_conversation WHERE organization_id = %s "
            "AND status = 'open' AND last_message_at IS NOT NULL",
            [organization.pk],
        )
        (open_count,) = cursor.fetchone()
        cursor.execute(
            "SELECT last_message_at, id FROM inbox_conversation WHERE organization_id = %s "
            "AND status = 'open' AND last_message_at IS NOT NULL "
            "ORDER BY last_message_at DESC, id DESC OFFSET %s LIMIT 1",
            [organization.pk, int(open_count * 0.9)],
        )
        deep_cursor = cursor.fetchone()
        # A customer with an open conversation, found by six digits of their number.
        cursor.execute(
            "SELECT phone FROM inbox_contact t JOIN inbox_conversation c ON c.contact_id = t.id "
            "WHERE t.organization_id = %s AND t.phone <> '' AND c.status = 'open' "
            "ORDER BY t.id LIMIT 1 OFFSET 100",
            [organization.pk],
        )
        (phone,) = cursor.fetchone()
        cursor.execute(
            "SELECT (SELECT count(*) FROM inbox_conversation WHERE organization_id = %s), "
            "(SELECT count(*) FROM inbox_message WHERE organization_id = %s), "
            "(SELECT count(*) FROM inbox_conversation), (SELECT count(*) FROM inbox_message), "
            "(SELECT count(*) FROM inbox_message WHERE conversation_id = %s)",
            [organization.pk, organization.pk, long_conversation_id],
        )
        counts = dict(
            zip(
                (
                    "conversations (large organisation)",
                    "messages (large organisation)",
                    "conversations (all)",
                    "messages (all)",
                    "messages (long conversation)",
                ),
                cursor.fetchone(),
                strict=True,
            )
        )
        counts["open conversations (large organisation)"] = open_count
    agent = (
        User.objects.filter(memberships__organization=organization, memberships__role=Role.AGENT)
        .order_by("pk")
        .first()
    )
    return Dataset(
        organization=organization,
        agent=agent,
        channels=channels,
        labels={label.name: label for label in Label.objects.filter(organization=organization)},
        conversation_id=conversation_id,
        long_conversation_id=long_conversation_id,
        deep_cursor=deep_cursor,
        phone_fragment=phone[4:10],
        counts=counts,
    )

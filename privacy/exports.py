"""Exports: everything an organisation holds, or everything Padu keeps about one of its
users, as a ZIP of JSON files (each an array of objects) with a manifest. Rows are read
in chunks and written as they come, and stored files are copied in pieces, so memory
stays flat whatever the size.

Each part names the fields it exports; `ORGANIZATION_OMITTED` and `USER_OMITTED` say
what is left out and why (secrets, workers' bookkeeping, what is derived from other
rows), and a test holds every model and field to one or the other."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, Invitation, Membership, Organization, User
from channels_meta.models import Channel, MessageTemplate
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    Label,
    Message,
    Note,
    OrderRecord,
    SavedReply,
)
from privacy.models import AccessLogEntry, DataRequest, RetentionPolicy

FORMAT_VERSION = 1
ROWS_AT_ONCE = 2000


@dataclass(frozen=True)
class Part:
    """One JSON file of an export: the `fields` (lookups, as `.values()` takes them) of
    `model`'s rows that `rows` selects."""

    file: str
    model: type[Model]
    fields: tuple[str, ...]
    rows: Callable[[], QuerySet]
    # Fields naming files in storage, copied into the ZIP under files/<their name>.
    file_fields: tuple[str, ...] = ()

    def values(self) -> Iterator[dict]:
        return self.rows().order_by("pk").values(*self.fields).iterator(chunk_size=ROWS_AT_ONCE)


def _fields(
    model: type[Model], *, leave_out: dict[str, str] | None = None, **named_by
) -> tuple[str, ...]:
    """Every concrete field of `model` but those left out; a relation to another row is
    exported by its id, or by the lookups `named_by` gives (e.g. author="author__email")."""
    fields = []
    for field in model._meta.concrete_fields:
        if field.name in (leave_out or {}):
            continue
        fields.append(named_by.get(field.name, field.attname))
    return tuple(fields)


def organization_parts(organization: Organization) -> list[Part]:
    def mine(model: type[Model]) -> Callable[[], QuerySet]:
        return lambda: model.objects.filter(organization=organization)

    by_email = {"actor": "actor__email", "author": "author__email", "assignee": "assignee__email"}
    return [
        Part(
            "organization.json",
            Organization,
            _fields(Organization, created_by="created_by__email"),
            lambda: Organization.objects.filter(pk=organization.pk),
        ),
        Part(
            "members.json",
            Membership,
            ("id", "user__email", "user__full_name", "role", "created_at"),
            mine(Membership),
        ),
        Part(
            "invitations.json",
            Invitation,
            _fields(
                Invitation,
                leave_out=ORGANIZATION_OMITTED[Invitation],
                invited_by="invited_by__email",
                accepted_by="accepted_by__email",
            ),
            mine(Invitation),
        ),
        Part(
            "channels.json",
            Channel,
            _fields(
                Channel, leave_out=ORGANIZATION_OMITTED[Channel], connected_by="connected_by__email"
            ),
            mine(Channel),
        ),
        Part("templates.json", MessageTemplate, _fields(MessageTemplate), mine(MessageTemplate)),
        Part(
            "contacts.json",
            Contact,
            _fields(Contact, leave_out=ORGANIZATION_OMITTED[Contact]),
            mine(Contact),
            file_fields=("avatar",),
        ),
        Part("labels.json", Label, _fields(Label), mine(Label)),
        Part(
            "saved_replies.json",
            SavedReply,
            _fields(SavedReply, created_by="created_by__email"),
            mine(SavedReply),
        ),
        Part(
            "conversations.json",
            Conversation,
            _fields(Conversation, **by_email),
            mine(Conversation),
        ),
        Part(
            "conversation_labels.json",
            Conversation.labels.through,
            ("conversation_id", "label_id"),
            lambda: Conversation.labels.through.objects.filter(label__organization=organization),
        ),
        Part(
            "messages.json",
            Message,
            _fields(Message, leave_out=ORGANIZATION_OMITTED[Message], **by_email),
            mine(Message),
        ),
        Part(
            "attachments.json",
            Attachment,
            _fields(Attachment, leave_out=ORGANIZATION_OMITTED[Attachment]),
            mine(Attachment),
            file_fields=("file", "thumbnail"),
        ),
        Part("notes.json", Note, _fields(Note, **by_email), mine(Note)),
        Part("order_records.json", OrderRecord, _fields(OrderRecord), mine(OrderRecord)),
        Part(
            "note_mentions.json",
            Note.mentions.through,
            ("note_id", "user__email"),
            lambda: Note.mentions.through.objects.filter(note__organization=organization),
        ),
        Part("audit_log.json", AuditEvent, _fields(AuditEvent, **by_email), mine(AuditEvent)),
        Part("retention.json", RetentionPolicy, _fields(RetentionPolicy), mine(RetentionPolicy)),
        Part(
            "data_requests.json",
            DataRequest,
            _fields(
                DataRequest,
                leave_out=ORGANIZATION_OMITTED[DataRequest],
                subject_user="subject_user__email",
                handled_by="handled_by__email",
            ),
            mine(DataRequest),
        ),
        Part(
            "data_request_contacts.json",
            DataRequest.contacts.through,
            ("datarequest_id", "contact_id"),
            lambda: DataRequest.contacts.through.objects.filter(
                datarequest__organization=organization
            ),
        ),
    ]


# What an organisation's export leaves out: whole models, then fields of exported ones.
ORGANIZATION_OMITTED_MODELS = {
    "inbox.ConversationWord": "derived from the messages",
    "inbox.PendingReceipt": "Meta's receipts waiting a few minutes for their message",
    "inbox.PendingChange": "Meta's changes waiting a few minutes for their message",
    "accounts.Notice": "banners shown in the app",
    "privacy.Export": "the exports themselves",
    "privacy.AccessLogEntry": "each member's own record of what they opened: in their export",
    "accounts.ApiKey": "keys to the API (only their hashes are kept); the audit log names them",
    "inbox.WebhookEndpoint": "forwarding settings, with their signing secret",
    "inbox.OutboxEvent": "copies of changes on their way to the organisation's own systems",
    "inbox.EventDelivery": "the log of those copies' delivery",
}
ORGANIZATION_OMITTED: dict[type[Model], dict[str, str]] = {
    Invitation: {"token_hash": "the hash of a secret link"},
    Channel: {"token_ciphertext": "Meta's access token: never exported"},
    Contact: {"avatar_attempts": "a worker's count", "avatar_claimed_at": "a worker's claim"},
    Message: {"send_claimed_at": "a worker's claim"},
    Attachment: {"attempts": "a worker's count", "claimed_at": "a worker's claim"},
    DataRequest: {
        "claimed_at": "a worker's claim",
        "channels": "named only by Meta's requests, which belong to no organisation",
    },
}


def user_parts(user: User) -> list[Part]:
    return [
        Part(
            "profile.json",
            User,
            _fields(User, leave_out=USER_OMITTED[User]),
            lambda: User.objects.filter(pk=user.pk),
        ),
        Part(
            "memberships.json",
            Membership,
            ("organization__name", "organization__slug", "role", "created_at"),
            lambda: Membership.objects.filter(user=user),
        ),
        Part(
            "messages_sent.json",
            Message,
            ("id", "organization__slug", "conversation_id", "kind", "text", "status", "created_at"),
            lambda: Message.objects.filter(author=user),
        ),
        Part(
            "notes_written.json",
            Note,
            ("id", "organization__slug", "conversation_id", "text", "created_at"),
            lambda: Note.objects.filter(author=user),
        ),
        Part(
            "activity.json",
            AuditEvent,
            ("action", "organization__slug", "target", "ip", "created_at"),
            lambda: AuditEvent.objects.filter(actor=user),
        ),
        Part(
            "access_log.json",
            AccessLogEntry,
            ("method", "path", "status", "organization__slug", "ip", "user_agent", "created_at"),
            lambda: AccessLogEntry.objects.filter(user=user),
        ),
        Part(
            "two_factor.json",
            TOTPDevice,
            ("name", "confirmed", "created_at", "last_used_at"),
            lambda: TOTPDevice.objects.filter(user=user),
        ),
        Part(
            "recovery_codes.json",
            StaticDevice,
            ("name", "confirmed", "created_at", "last_used_at"),
            lambda: StaticDevice.objects.filter(user=user),
        ),
    ]


USER_OMITTED: dict[type[Model], dict[str, str]] = {User: {"password": "a hash of the password"}}


def _json_array_write(archive: zipfile.ZipFile, part: Part) -> int:
    count = 0
    with archive.open(part.file, "w", force_zip64=True) as out:
        out.write(b"[")
        for row in part.values():
            text = json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False)
            out.write((b",\n" if count else b"\n") + text.encode())
            count += 1
        out.write(b"\n]\n")
    return count


def _stored_files_copy(archive: zipfile.ZipFile, part: Part) -> tuple[int, list[str]]:
    copied, missing = 0, []
    names = part.rows().order_by("pk").values_list(*part.file_fields)
    for row in names.iterator(chunk_size=ROWS_AT_ONCE):
        for name in filter(None, row):
            try:
                source = default_storage.open(name, "rb")
            except FileNotFoundError:
                missing.append(name)
                continue
            with source, archive.open(f"files/{name}", "w", force_zip64=True) as out:
                shutil.copyfileobj(source, out, length=1024 * 1024)
            copied += 1
    return copied, missing


def export_write(
    destination: IO[bytes],
    *,
    kind: str,
    subject: str,
    parts: list[Part],
    on_part: Callable[[int, int], None] = lambda done, total: None,
) -> dict:
    """Write the export of `parts` to `destination` (a binary file, or anything writable
    like one), calling `on_part(done, total)` after each; returns its manifest, which the
    ZIP also holds as manifest.json. A full disk raises OSError, as any write error does."""
    manifest = {
        "format": FORMAT_VERSION,
        "kind": kind,
        "subject": subject,
        "created_at": timezone.now().isoformat(),
        "files": {},
        "stored_files": 0,
        "missing_files": [],
    }
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, part in enumerate(parts, start=1):
            manifest["files"][part.file] = _json_array_write(archive, part)
            if part.file_fields:
                copied, missing = _stored_files_copy(archive, part)
                manifest["stored_files"] += copied
                manifest["missing_files"] += missing
            on_part(done, len(parts))
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
    return manifest


def organization_export(organization: Organization, destination: IO[bytes]) -> dict:
    return export_write(
        destination,
        kind="organization",
        subject=organization.slug,
        parts=organization_parts(organization),
    )


CUSTOMER_MESSAGE_FIELDS = (
    "id",
    "conversation_id",
    "direction",
    "kind",
    "text",
    "reaction",
    "is_deleted",
    "sent_at",
    "delivered_at",
    "read_at",
)


def customer_parts(contacts: QuerySet[Contact]) -> list[Part]:
    """What an organisation holds about a customer (these contacts): their profile,
    conversations, messages with their files, and the notes about them; the team's
    names and addresses are not theirs, so they are left out."""
    conversations = Conversation.objects.filter(contact__in=contacts)
    messages = Message.objects.filter(conversation__in=conversations)
    return [
        Part(
            "profile.json",
            Contact,
            _fields(Contact, leave_out=ORGANIZATION_OMITTED[Contact], channel="channel__name"),
            lambda: contacts,
            file_fields=("avatar",),
        ),
        Part(
            "conversations.json",
            Conversation,
            ("id", "channel__name", "channel__kind", "status", "created_at", "last_message_at"),
            lambda: conversations,
        ),
        Part(
            "messages.json",
            Message,
            CUSTOMER_MESSAGE_FIELDS,
            lambda: messages,
        ),
        Part(
            "attachments.json",
            Attachment,
            ("id", "message_id", "kind", "mime_type", "file_name", "size", "file"),
            lambda: Attachment.objects.filter(message__in=messages),
            file_fields=("file",),
        ),
        Part(
            "notes.json",
            Note,
            ("id", "conversation_id", "text", "created_at"),
            lambda: Note.objects.filter(conversation__in=conversations),
        ),
        Part(
            "orders.json",
            OrderRecord,
            ("id", "channel__name", "customer_name", "ordered_at", "catalog_id", "items"),
            lambda: OrderRecord.objects.filter(contact__in=contacts),
        ),
    ]


def user_export(user: User, destination: IO[bytes]) -> dict:
    return export_write(destination, kind="user", subject=user.email, parts=user_parts(user))

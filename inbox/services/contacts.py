"""Customers as Meta identifies them. A contact is keyed on the customer's Page-scoped,
Instagram-scoped or WhatsApp phone id; a customer Meta names only by a second kind of id
(a WhatsApp business-scoped user id, a Messenger user_ref) is keyed on that until Meta
gives the first, and `other_id` keeps the second, so either id finds the same contact.
When Meta shows that two contacts are one customer, they are merged."""

from __future__ import annotations

from typing import NamedTuple

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import RuleError
from accounts.models import Membership
from channels_meta.models import Channel, ChannelKind
from channels_meta.webhooks.events import ContactChangeEvent, PreferenceEvent
from inbox.models import Contact, Conversation, ConversationKind, Message
from inbox.services import outbox
from inbox.services.bulk import rows_insert
from inbox.services.downloads import files_delete


class Person(NamedTuple):
    """A customer as one event names them."""

    customer_id: str
    other_id: str = ""
    name: str = ""
    username: str = ""
    phone: str = ""


class Resolved(NamedTuple):
    """The contacts of a batch's customers, by customer id, and those created for it."""

    contacts: dict[str, Contact]
    created: list[Contact]


def _combined(known: Person, later: Person) -> Person:
    """What two events say about one customer: the later one's names win."""
    return Person(*(new or old for old, new in zip(known, later, strict=True)))


def contact_upsert(
    *,
    channel: Channel,
    external_id: str,
    name: str = "",
    username: str = "",
    phone: str = "",
    other_id: str = "",
) -> Contact:
    """The channel's contact for a customer id, created on first sight; names Meta
    sends later fill in or correct what is known."""
    person = Person(external_id, other_id, name, username, phone)
    return contacts_resolve(channel=channel, people=[person]).contacts[external_id]


@transaction.atomic(savepoint=False)
def contacts_resolve(*, channel: Channel, people: list[Person]) -> Resolved:
    """The contact of each person, by customer id: found by either of their ids (one
    query for all), created if new, merged when they turn out to be one customer; the
    names and ids Meta sent fill in or correct what is known. Says which contacts it
    created (a concurrent worker creating the same one may say so too)."""
    wanted: dict[str, Person] = {}
    for person in people:
        if person.customer_id:
            known = wanted.get(person.customer_id)
            wanted[person.customer_id] = _combined(known, person) if known else person
    if not wanted:
        return Resolved({}, [])
    ids = set(wanted) | {person.other_id for person in wanted.values() if person.other_id}
    stored = list(
        Contact.objects.filter(channel=channel).filter(Q(external_id__in=ids) | Q(other_id__in=ids))
    )
    found: dict[str, Contact] = {}
    for customer, person in wanted.items():
        contact = _one_contact(customer, person.other_id, stored)
        if contact is not None:
            found[customer] = contact
    missing = [customer for customer in wanted if customer not in found]
    created = []
    if missing:
        rows_insert(
            [
                Contact(
                    organization_id=channel.organization_id,
                    channel=channel,
                    external_id=customer,
                    other_id=wanted[customer].other_id,
                    name=wanted[customer].name,
                    username=wanted[customer].username,
                    phone=wanted[customer].phone,
                )
                for customer in missing
            ]
        )
        for contact in Contact.objects.filter(channel=channel, external_id__in=missing):
            found[contact.external_id] = contact
            created.append(contact)
    for customer, person in wanted.items():
        contact = found[customer]
        # Keyed on the second kind of id until now: Meta has given the first.
        rekey = contact.external_id == person.other_id and customer != person.other_id
        _contact_correct(
            contact,
            external_id=customer if rekey else "",
            other_id=person.other_id,
            name=person.name,
            username=person.username,
            phone=person.phone,
        )
    return Resolved(found, created)


def _one_contact(customer: str, other_id: str, stored: list[Contact]) -> Contact | None:
    """The stored contact of a customer known by `customer` (and maybe `other_id`); when
    two contacts match, the one keyed on the customer's primary id keeps the other's
    conversations."""
    matches = [
        contact
        for contact in stored
        if contact.external_id == customer
        or (other_id and other_id in (contact.external_id, contact.other_id))
    ]
    if not matches:
        return None
    keep = next((c for c in matches if not other_id or c.external_id != other_id), matches[0])
    for gone in matches:
        if gone.pk != keep.pk:
            _contacts_merge(keep=keep, gone=gone)
            stored.remove(gone)
    return keep


def _contact_correct(contact: Contact, **values: str) -> None:
    """Fill in or correct the contact's names and ids with those Meta sent (an empty one
    says nothing)."""
    changed = {
        field: value
        for field, value in values.items()
        if value and getattr(contact, field) != value
    }
    if changed:
        Contact.objects.filter(pk=contact.pk).update(**changed)
        for field, value in changed.items():
            setattr(contact, field, value)


def _contacts_merge(*, keep: Contact, gone: Contact) -> None:
    """Meta showed that two contacts are one customer: `gone`'s conversations and
    messages move to `keep` (one direct-message conversation), then `gone` goes."""
    kept_dm = Conversation.objects.filter(contact=keep, kind=ConversationKind.DM).first()
    gone_dm = Conversation.objects.filter(contact=gone, kind=ConversationKind.DM).first()
    if kept_dm is not None and gone_dm is not None:
        Message.objects.filter(conversation=gone_dm).update(conversation=kept_dm)
        times = {}
        for field in ("last_message_at", "last_inbound_at"):
            known = [t for t in (getattr(kept_dm, field), getattr(gone_dm, field)) if t]
            times[field] = max(known) if known else None
        Conversation.objects.filter(pk=kept_dm.pk).update(
            unread_count=F("unread_count") + gone_dm.unread_count,
            referral=kept_dm.referral or gone_dm.referral,
            **times,
        )
        gone_dm.delete()
    Conversation.objects.filter(contact=gone).update(contact=keep)
    fill = {
        field: getattr(gone, field)
        for field in ("name", "username", "phone", "other_id", "profile_picture_url")
        if not getattr(keep, field) and getattr(gone, field)
    }
    if gone.marketing_opt_out_at and (
        not keep.marketing_opt_out_at or gone.marketing_opt_out_at > keep.marketing_opt_out_at
    ):
        fill.update(
            marketing_opt_out=gone.marketing_opt_out,
            marketing_opt_out_at=gone.marketing_opt_out_at,
        )
    picture = gone.avatar
    transaction.on_commit(lambda: files_delete(picture))
    gone.delete()
    if fill:
        Contact.objects.filter(pk=keep.pk).update(**fill)
        for field, value in fill.items():
            setattr(keep, field, value)


@transaction.atomic(savepoint=False)
def contact_change_record(*, channel: Channel, event: ContactChangeEvent) -> Contact:
    """A customer's ids changed (a WhatsApp customer changed their number): the contact
    is found again by the new ones; if the new number already has a contact, the two
    are merged into it. A changed identity is noted on the contact, for whoever answers
    to see that the person behind the number may not be who it was."""
    person = Person(event.customer_id, event.customer_other_id)
    contact = contacts_resolve(channel=channel, people=[person]).contacts[event.customer_id]
    if event.identity_changed:
        Contact.objects.filter(pk=contact.pk).update(identity_changed_at=event.at)
        contact.identity_changed_at = event.at
        return contact
    new_id = event.new_customer_id
    if new_id and new_id != contact.external_id:
        existing = Contact.objects.filter(channel=channel, external_id=new_id).first()
        if existing is not None:
            _contacts_merge(keep=existing, gone=contact)
            contact = existing
        else:
            phone = new_id if channel.kind == "whatsapp" and new_id.isdigit() else ""
            _contact_correct(contact, external_id=new_id, phone=phone)
    _contact_correct(contact, other_id=event.new_other_id)
    return contact


@transaction.atomic(savepoint=False)
def preference_record(*, channel: Channel, event: PreferenceEvent) -> Contact:
    """A customer stopped (`stop`) or resumed (`resume`) marketing messages; an older
    report than the one recorded changes nothing."""
    person = Person(event.customer_id, event.customer_other_id, event.customer_name)
    contact = contacts_resolve(channel=channel, people=[person]).contacts[event.customer_id]
    if contact.marketing_opt_out_at is None or contact.marketing_opt_out_at <= event.at:
        opted_out = event.value == "stop"
        Contact.objects.filter(pk=contact.pk).update(
            marketing_opt_out=opted_out, marketing_opt_out_at=event.at
        )
        contact.marketing_opt_out, contact.marketing_opt_out_at = opted_out, event.at
    return contact


class ContactImport(NamedTuple):
    """One customer to import: their WhatsApp number (digits, country code first) and what
    the business keeps about them (empty keeps what is already there)."""

    phone: str
    custom_name: str = ""
    email: str = ""
    notes: str = ""


class ImportRefused(RuleError):
    """Contacts that cannot be imported, said in words."""


MAX_IMPORT = 1000
LOCAL_FIELDS = ("custom_name", "email", "notes")


@transaction.atomic
def contacts_import(
    *, membership: Membership, channel: Channel, rows: list[ContactImport]
) -> Resolved:
    """Create or update a WhatsApp channel's contacts by phone number, so that the team
    knows them before they write (and templates can reach them). Other channels know a
    customer only by an id Meta gives when they write first."""
    if channel.kind != ChannelKind.WHATSAPP:
        raise ImportRefused(_("Contacts can be imported into WhatsApp channels only."))
    if len(rows) > MAX_IMPORT:
        raise ImportRefused(_("Import at most %(count)d contacts at once.") % {"count": MAX_IMPORT})
    resolved = contacts_resolve(
        channel=channel, people=[Person(row.phone, phone=row.phone) for row in rows]
    )
    changed, now = [], timezone.now()
    for row in rows:
        contact = resolved.contacts[row.phone]
        contact.updated_at = now
        for name in LOCAL_FIELDS:
            if getattr(row, name):
                setattr(contact, name, getattr(row, name).strip())
        changed.append(contact)
    Contact.objects.bulk_update(changed, [*LOCAL_FIELDS, "updated_at"])
    outbox.contacts_forward(
        organization_id=channel.organization_id, contact_ids=[c.pk for c in changed]
    )
    return resolved

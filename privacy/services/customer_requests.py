"""Requests from a business's customers about the data it keeps on them: asked on the
organisation's public page and confirmed through a link e-mailed to the person, or
recorded by its staff from a contact's panel; then matched to contacts and approved or
rejected by the organisation's owners and admins, and carried out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.errors import RuleError
from accounts.models import Membership, Organization
from accounts.services import audit_record, managers_email, managers_notify
from inbox.models import Contact
from padu.batches import delete_in_batches
from padu.mail import email_on_commit
from privacy.models import OPEN_STATUSES, DataRequest, RequestKind, RequestSource, RequestStatus
from privacy.services.data_requests import data_request_move

CONFIRMATION_SALT = "padu.privacy.request-confirmation"
CONFIRMATION_VALID = timedelta(days=3)
# A request nobody confirmed is deleted after this long: it may name someone else.
UNCONFIRMED_KEPT = timedelta(days=7)


def _received(data_request: DataRequest, actor=None) -> None:
    audit_record(
        action="data_request.received",
        organization=data_request.organization,
        actor=actor,
        target=str(data_request),
    )


def confirmation_token(data_request: DataRequest) -> str:
    return signing.dumps(data_request.pk, salt=CONFIRMATION_SALT)


def request_for_confirmation_token(token: str) -> DataRequest | None:
    """The request a confirmation link was made for, while the link is fresh."""
    try:
        request_id = signing.loads(
            token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_VALID.total_seconds()
        )
    except signing.BadSignature:
        return None
    return DataRequest.objects.select_related("organization").filter(pk=request_id).first()


@transaction.atomic
def customer_request_submit(
    *, organization: Organization, kind: str, identifier: str, requester_email: str, details: str
) -> DataRequest:
    """Record what a person asked on the organisation's public page and e-mail them a
    link that confirms it; nobody at the organisation sees it before that."""
    data_request = DataRequest.objects.create(
        organization=organization,
        kind=kind,
        source=RequestSource.PUBLIC_FORM,
        subject_identifier=identifier,
        requester_email=requester_email,
        details=details,
        language=translation.get_language() or "",
    )
    _received(data_request)
    link = settings.SITE_URL + reverse(
        "privacy_request_confirm", args=[organization.slug, confirmation_token(data_request)]
    )
    email_on_commit(
        subject=format_lazy(
            gettext_lazy("Confirm your data request to {organization}"),
            organization=organization.name,
        ),
        template="privacy/email/request_confirm.txt",
        context={"data_request": data_request, "link": link, "organization": organization},
        to=requester_email,
    )
    return data_request


def _queue_link(data_request: DataRequest) -> str:
    return reverse("data_request", args=[data_request.organization.slug, data_request.pk])


@transaction.atomic
def customer_request_confirm(*, data_request: DataRequest) -> bool:
    """The person followed the link e-mailed to them: the request is verified and the
    organisation's owners and admins are told. False when it was confirmed before."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if data_request.status != RequestStatus.RECEIVED:
        return False
    data_request.verified_at = timezone.now()
    data_request.save(update_fields=["verified_at"])
    data_request_move(data_request, RequestStatus.VERIFIED)
    with translation.override(settings.LANGUAGE_CODE):  # the managers', not the customer's
        _managers_told_of_request(data_request)
    return True


def _managers_told_of_request(data_request: DataRequest) -> None:
    managers_notify(
        organization=data_request.organization,
        subject=_("A customer asked about their data"),
        message=_(
            "A customer asked for %(kind)s of their data. Match them to their contacts and "
            "answer by %(due)s."
        )
        % {
            "kind": data_request.get_kind_display().lower(),
            "due": date_format(data_request.due_at),
        },
        link=_queue_link(data_request),
        topic=f"data_request:{data_request.pk}",
    )


@transaction.atomic
def contact_request_record(
    *, membership: Membership, contact: Contact, kind: str, requester_email: str, details: str
) -> DataRequest:
    """A member records what a customer asked them (in a conversation, by phone): the
    request names that contact and waits for an owner or admin, who is told."""
    data_request = DataRequest.objects.create(
        organization=membership.organization,
        kind=kind,
        source=RequestSource.STAFF,
        subject_identifier=(contact.handle or contact.external_id)[:200],
        requester_email=requester_email,
        details=details,
        language=translation.get_language() or "",
        verified_at=timezone.now(),
    )
    data_request.contacts.add(contact)
    _received(data_request, actor=membership.user)
    data_request_move(data_request, RequestStatus.VERIFIED, actor=membership.user)
    managers_notify(
        organization=membership.organization,
        subject=_("A data request was recorded"),
        message=_("%(member)s recorded a customer's request for %(kind)s.")
        % {
            "member": membership.user.get_full_name(),
            "kind": data_request.get_kind_display().lower(),
        },
        link=_queue_link(data_request),
        topic=f"data_request:{data_request.pk}",
    )
    return data_request


def _open_for_answer(membership: Membership, data_request_id: int) -> DataRequest:
    data_request = (
        DataRequest.objects.for_org(membership.organization)
        .select_for_update()
        .get(pk=data_request_id)
    )
    if data_request.status != RequestStatus.VERIFIED:
        raise RuleError(_("This request has already been answered."))
    return data_request


def _carry_out_now(data_request: DataRequest, contacts: QuerySet[Contact]) -> dict[str, int]:
    """Restriction and objection take effect at once, on every matched contact."""
    now = timezone.now()
    if data_request.kind == RequestKind.RESTRICTION:
        changed = contacts.filter(processing_restricted_at__isnull=True).update(
            processing_restricted_at=now
        )
        return {"contacts_restricted": changed}
    changed = contacts.update(marketing_opt_out=True, marketing_opt_out_at=now)
    return {"contacts_opted_out": changed}


@transaction.atomic
def data_request_approve(
    *,
    membership: Membership,
    data_request: DataRequest,
    contacts: QuerySet[Contact],
    carry_out: Callable[[int], None],
) -> DataRequest:
    """An owner or admin approves a verified request for the contacts they matched (of
    their own organisation only; none when the organisation holds nothing on the
    person). A restriction or an objection is carried out at once; an erasure or an
    export by a worker (`carry_out`, once this commits)."""
    data_request = _open_for_answer(membership, data_request.pk)
    data_request.handled_by = membership.user
    data_request.save(update_fields=["handled_by"])
    # What the admin ticked, and only that: a contact unticked is not the person.
    data_request.contacts.set(contacts.for_org(membership.organization))
    matched = Contact.objects.filter(pk__in=data_request.contacts.values("pk"))
    data_request_move(data_request, RequestStatus.IN_PROGRESS, actor=membership.user)
    if data_request.kind in (RequestKind.ERASURE, RequestKind.ACCESS):
        transaction.on_commit(lambda: carry_out(data_request.pk), robust=True)
        return data_request
    data_request.outcome = _carry_out_now(data_request, matched)
    data_request_move(data_request, RequestStatus.COMPLETED, actor=membership.user)
    return data_request


@transaction.atomic
def data_request_reject(
    *, membership: Membership, data_request: DataRequest, reason: str
) -> DataRequest:
    """An owner or admin turns a verified request down; the person is told why."""
    data_request = _open_for_answer(membership, data_request.pk)
    data_request.handled_by = membership.user
    data_request.completed_at = timezone.now()
    data_request.save(update_fields=["handled_by", "completed_at"])
    data_request_move(data_request, RequestStatus.REJECTED, reason=reason, actor=membership.user)
    return data_request


@transaction.atomic
def contact_restriction_lift(*, membership: Membership, contact: Contact) -> None:
    """An owner or admin lifts a restriction (the customer withdrew it, or it was
    settled): the team may answer the contact again."""
    lifted = (
        Contact.objects.for_org(membership.organization)
        .filter(pk=contact.pk, processing_restricted_at__isnull=False)
        .update(processing_restricted_at=None)
    )
    if lifted:
        audit_record(
            action="contact.restriction_lifted",
            organization=membership.organization,
            actor=membership.user,
            target=f"contact #{contact.pk}",
        )


def overdue_requests_remind(*, now: datetime | None = None) -> int:
    """E-mail the owners and admins of every organisation with requests past their due
    date (every day, until they are answered); returns how many organisations."""
    now = now or timezone.now()
    overdue = list(
        DataRequest.objects.filter(
            organization__isnull=False, status__in=OPEN_STATUSES, due_at__lt=now
        )
        .values("organization")
        .annotate(count=Count("pk"))
    )
    organizations = Organization.objects.in_bulk([row["organization"] for row in overdue])
    for row in overdue:
        organization = organizations.get(row["organization"])
        if organization is None or organization.is_suspended:
            continue
        managers_email(
            organization=organization,
            subject=_("Data requests are overdue"),
            message=ngettext(
                "%(count)d data request in %(organization)s is past its due date. The law "
                "gives one month to answer it.",
                "%(count)d data requests in %(organization)s are past their due date. The "
                "law gives one month to answer them.",
                row["count"],
            )
            % {"count": row["count"], "organization": organization.name},
            link=reverse("data_requests", args=[organization.slug]),
        )
    return len(overdue)


def unconfirmed_requests_purge(*, now: datetime | None = None) -> int:
    """Delete requests nobody confirmed within UNCONFIRMED_KEPT; returns how many."""
    before = (now or timezone.now()) - UNCONFIRMED_KEPT
    return delete_in_batches(
        DataRequest.objects.filter(status=RequestStatus.RECEIVED, received_at__lt=before)
    )

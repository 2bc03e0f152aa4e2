"""What the privacy pages read."""

from __future__ import annotations

import re
from collections import Counter

from django.db.models import Q, QuerySet

from accounts.models import Membership, Organization, Role, User
from channels_meta.models import Channel
from inbox.models import Contact, Conversation
from privacy.models import OPEN_STATUSES, DataRequest, Export, RequestStatus

CANDIDATES_SHOWN = 20
CODE = re.compile(r"[0-9a-f]{20}")


def data_request_queue(organization: Organization, *, answered: bool) -> QuerySet[DataRequest]:
    """The organisation's confirmed requests: open ones soonest due first, or answered
    ones latest first. Requests nobody confirmed yet are not shown."""
    requests = DataRequest.objects.for_org(organization).exclude(status=RequestStatus.RECEIVED)
    if answered:
        return requests.exclude(status__in=OPEN_STATUSES).order_by("-completed_at", "-pk")
    return requests.filter(status__in=OPEN_STATUSES).order_by("due_at", "pk")


def data_request_for_code(code: str) -> DataRequest | None:
    """The confirmed request with this public code."""
    if not CODE.fullmatch(code):
        return None
    return (
        DataRequest.objects.exclude(status=RequestStatus.RECEIVED)
        .select_related("organization")
        .filter(confirmation_code=code)
        .first()
    )


def organization_contacts(organization: Organization) -> QuerySet[Contact]:
    return Contact.objects.for_org(organization)


def answerable_data_requests() -> QuerySet[DataRequest]:
    """The requests an owner or admin may open (within their organisation): confirmed ones."""
    return DataRequest.objects.exclude(status=RequestStatus.RECEIVED).select_related("handled_by")


def contact_candidates(organization: Organization, identifier: str) -> QuerySet[Contact]:
    """The organisation's contacts a person who named themselves `identifier` may be:
    the same handle (with or without @), e-mail address, phone number or Meta id, or a
    name, handle or phone containing it."""
    identifier = identifier.replace("\x00", "").strip()
    if not identifier:
        return Contact.objects.none()
    handle = identifier.removeprefix("@")
    digits = re.sub(r"\D", "", identifier)
    matches = (
        Q(username__iexact=handle)
        | Q(email__iexact=identifier)
        | Q(external_id=identifier)
        | Q(other_id=identifier)
        | Q(custom_name__icontains=identifier)
        | Q(name__icontains=identifier)
        | Q(username__icontains=handle)
    )
    if len(digits) >= 6:  # a phone number, however it was written
        matches |= Q(external_id=digits) | Q(phone__contains=digits)
    return Contact.objects.for_org(organization).filter(matches).order_by("-updated_at")


def contacts_to_match(data_request: DataRequest, search: str) -> QuerySet[Contact]:
    """The contacts an admin may match to the request: those already matched and the
    CANDIDATES_SHOWN likeliest for `search` (the person's own words unless the admin
    searched for something else)."""
    organization = data_request.organization
    candidates = contact_candidates(organization, search or data_request.subject_identifier)
    ids = [*data_request.contacts.values_list("pk", flat=True)]
    ids += candidates.values_list("pk", flat=True)[:CANDIDATES_SHOWN]
    return (
        Contact.objects.for_org(organization)
        .filter(pk__in=ids)
        .select_related("channel")
        .order_by("-updated_at")
    )


def own_exports(user: User) -> QuerySet[Export]:
    """The exports of the user's own data, newest first."""
    return Export.objects.filter(requested_by=user, organization__isnull=True)


def organization_exports(organization: Organization) -> QuerySet[Export]:
    """The organisation's own exports (not those made for its customers' requests)."""
    return (
        Export.objects.for_org(organization)
        .filter(data_request__isnull=True)
        .select_related("requested_by")
    )


def organizations_only_owned_by(user: User, *, lock: bool = False) -> list[Organization]:
    """The organisations (not being deleted) in which the user is the only owner;
    `lock` holds their owners' rows, so two owners leaving at once cannot both go."""
    owned = Membership.objects.filter(
        user=user, role=Role.OWNER, organization__deletion_requested_at__isnull=True
    ).values("organization_id")
    owners = Membership.objects.filter(organization_id__in=owned, role=Role.OWNER)
    if lock:
        owners = owners.select_for_update()
    counts = Counter(owners.values_list("organization_id", flat=True))
    alone = [organization_id for organization_id, count in counts.items() if count == 1]
    return list(Organization.objects.filter(pk__in=alone).order_by("name"))


def organization_holdings(organization: Organization) -> dict[str, int]:
    """How much an organisation holds, for the page that deletes it."""
    return {
        "channels": Channel.objects.for_org(organization).count(),
        "contacts": Contact.objects.for_org(organization).count(),
        "conversations": Conversation.objects.for_org(organization).count(),
        "members": Membership.objects.for_org(organization).count(),
    }

"""Carrying out data requests. Every change of a request's status is an audit event; the
work itself is asked of the app that owns the data, in batches, so that a run cut off
(a worker killed, a deploy) is taken up again by the sweeper and finishes."""

from __future__ import annotations

import json
import logging
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import audit_record, managers_notify
from channels_meta.models import Channel
from channels_meta.services.channels import channel_delete, channel_disconnect
from channels_meta.webhooks.retention import webhook_events_erase, webhook_events_pending_naming
from inbox.models import Contact, Conversation, OrderRecord
from inbox.services.downloads import files_delete
from inbox.services.erasure import contacts_erase, conversations_erase
from inbox.services.orders import order_records_anonymize
from padu.mail import email_on_commit
from privacy.models import (
    DataRequest,
    Export,
    ExportStatus,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from privacy.services.export_jobs import customer_download_url, export_build

logger = logging.getLogger(__name__)

WAITING = "waiting"


class ExportFailed(Exception):
    """The customer's export could not be built (the reason is the export's)."""


# Longer than the task's time limit: a request claimed this long ago was cut off.
CLAIM_LASTS = timedelta(minutes=35)
FAILED_RETRY_AFTER = timedelta(hours=1)


def data_request_move(
    data_request: DataRequest, status: str, *, reason: str = "", actor: User | None = None
) -> None:
    """Give the request its new status, as an audit event; the person who asked is
    e-mailed its outcome."""
    data_request.status = status
    data_request.reason = reason
    fields = ["status", "reason", "claimed_at", "outcome"]
    if status == RequestStatus.COMPLETED:
        data_request.completed_at = timezone.now()
        fields.append("completed_at")
        if data_request.kind == RequestKind.ERASURE:
            # Done with who the person was: the numbers, and whom the answer went to, stay.
            data_request.meta_user_id = data_request.subject_identifier = ""
            data_request.details = ""
            fields += ["meta_user_id", "subject_identifier", "details"]
    data_request.save(update_fields=fields)
    audit_record(
        action=f"data_request.{status}",
        organization=data_request.organization,
        actor=actor,
        target=str(data_request),
    )
    if status in (RequestStatus.COMPLETED, RequestStatus.REJECTED) and data_request.requester_email:
        _outcome_email(data_request)


def data_request_status_url(data_request: DataRequest) -> str:
    """The public page where whoever holds the code follows the request."""
    code = data_request.confirmation_code
    if data_request.source == RequestSource.META_DATA_DELETION:
        return settings.SITE_URL + reverse("privacy_deletion_status", args=[code])
    return settings.SITE_URL + reverse("privacy_request_status", args=[code])


def _outcome_email(data_request: DataRequest) -> None:
    export = None
    if data_request.kind == RequestKind.ACCESS and data_request.status == RequestStatus.COMPLETED:
        export = Export.objects.filter(data_request=data_request, status=ExportStatus.READY).first()
    email_on_commit(
        subject=format_lazy(
            gettext_lazy("Your data request to {organization}"),
            organization=data_request.organization.name,
        ),
        template="privacy/email/request_outcome.txt",
        context={
            "data_request": data_request,
            "link": data_request_status_url(data_request),
            "export": export,
            "download": export and customer_download_url(export),
        },
        to=data_request.requester_email,
        language=data_request.language,
    )


def _their_channels(meta_user_id: str, *, instagram_login: bool) -> QuerySet[Channel]:
    """The channels a Meta user connected through the app that signed their request."""
    return Channel.objects.filter(meta_user_id=meta_user_id, uses_instagram_login=instagram_login)


def _stop(channels: QuerySet[Channel], message: str) -> list[Channel]:
    """Disconnect these channels (nothing to release at Meta: the person removed the
    app) and tell each organisation's owners and admins why."""
    stopped = []
    for channel in channels.select_related("organization"):
        if channel_disconnect(channel=channel, actor=None, at_meta=False) is not None:
            managers_notify(
                organization=channel.organization,
                subject=_("A channel was disconnected at Meta"),
                message=message % {"channel": channel.name},
                topic=f"channel:{channel.pk}",
            )
        stopped.append(channel)
    return stopped


@transaction.atomic
def meta_erasure_request(
    *, meta_user_id: str, instagram_login: bool, carry_out: Callable[[int], None]
) -> DataRequest:
    """Meta asks, for a person who removed Padu's app (its signed request verified them),
    that the data Padu holds through them be erased: the channels they connected stop
    at once, so nothing more is recorded, and a worker (`carry_out`, once this commits)
    erases those channels' data and any customer with their id."""
    channels = _stop(
        _their_channels(meta_user_id, instagram_login=instagram_login),
        _(
            "%(channel)s was disconnected: the person who connected it removed Padu's app "
            "at Meta and asked that their data be deleted. Its conversations are being "
            "deleted."
        ),
    )
    data_request = DataRequest.objects.create(
        kind=RequestKind.ERASURE,
        source=RequestSource.META_DATA_DELETION,
        meta_user_id=meta_user_id,
        verified_at=timezone.now(),
    )
    data_request.channels.set(channels)
    audit_record(action="data_request.received", target=str(data_request))
    data_request_move(data_request, RequestStatus.VERIFIED)
    data_request_move(data_request, RequestStatus.IN_PROGRESS)
    transaction.on_commit(lambda: carry_out(data_request.pk), robust=True)
    return data_request


@transaction.atomic
def meta_app_removed(*, meta_user_id: str, instagram_login: bool) -> int:
    """Meta's deauthorize callback: the person removed Padu's app, so the channels they
    connected stop at once; their data then goes with the organisation's retention
    for disconnected channels (30 days at most), unless an admin reconnects them.
    Returns how many channels stopped."""
    channels = _stop(
        _their_channels(meta_user_id, instagram_login=instagram_login),
        _(
            "%(channel)s was disconnected: the person who connected it removed Padu's app "
            "at Meta. Reconnect it to keep receiving messages; otherwise its data is "
            "deleted as your retention settings say."
        ),
    )
    return len(channels)


def _claimable() -> Q:
    now = timezone.now()
    return Q(status=RequestStatus.IN_PROGRESS) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LASTS)
    ) | Q(status=RequestStatus.FAILED, claimed_at__lt=now - FAILED_RETRY_AFTER)


def data_requests_to_carry_out() -> list[int]:
    """Requests waiting for a worker: new ones, ones cut off, failed ones due again."""
    return list(DataRequest.objects.filter(_claimable()).values_list("pk", flat=True))


def _claim(request_id: int) -> DataRequest | None:
    with transaction.atomic():
        data_request = (
            DataRequest.objects.select_for_update(skip_locked=True)
            .filter(_claimable(), pk=request_id)
            .first()
        )
        if data_request is not None:
            data_request.claimed_at = timezone.now()
            data_request.save(update_fields=["claimed_at"])
        return data_request


def _meta_ids(contacts: QuerySet[Contact], also: list[str]) -> list[str]:
    """Every Meta id that names these contacts in a delivery, and the ids `also` names."""
    ids = set(also)
    for external_id, other_id in contacts.values_list("external_id", "other_id").iterator():
        ids.update(meta_id for meta_id in (external_id, other_id) if meta_id)
    return sorted(ids)


@dataclass(frozen=True)
class _Scope:
    channels: list[Channel]  # deleted with all their data
    contacts: QuerySet[Contact]  # erased
    also: list[str]  # other Meta ids naming the person in deliveries
    within: list[str] | None  # the accounts those deliveries must name, if any


def _erasure_scope(data_request: DataRequest) -> _Scope:
    """For Meta's callback: the channels the person connected with every customer of
    those channels, and any customer with their id. Otherwise: the contacts an admin
    matched, in deliveries to their own channels only (a phone number is the same
    customer id at every business)."""
    if data_request.source != RequestSource.META_DATA_DELETION:
        contacts = Contact.objects.filter(pk__in=data_request.contacts.values("pk"))
        accounts = Channel.objects.filter(pk__in=contacts.values("channel_id"))
        within = [
            account_id
            for ids in accounts.values_list("external_id", "waba_id", "page_id")
            for account_id in ids
            if account_id
        ]
        return _Scope([], contacts, [], within)
    meta_user_id = data_request.meta_user_id
    channels = list(data_request.channels.all())
    contacts = Contact.objects.filter(
        Q(channel__in=channels) | Q(external_id=meta_user_id) | Q(other_id=meta_user_id)
    )
    also = [meta_user_id, *(channel.external_id for channel in channels)]
    return _Scope(channels, contacts, also, None)


def _customer_exports_delete(contacts: QuerySet[Contact]) -> int:
    """Delete the copies made for the person's earlier access requests, files first."""
    exports = list(Export.objects.filter(data_request__contacts__in=contacts).distinct())
    files_delete(*(export.file for export in exports))
    return Export.objects.filter(pk__in=[export.pk for export in exports]).delete()[0]


def _erase(data_request: DataRequest, erased: Counter[str]) -> str:
    """Erase what the request names, counting it in `erased` as it goes."""
    scope = _erasure_scope(data_request)
    meta_ids = _meta_ids(scope.contacts, scope.also)
    if webhook_events_pending_naming(meta_ids, within=scope.within):
        return WAITING  # deliveries still being recorded would bring data back
    # The deliveries first: the ids they are found by go with the contacts.
    erased["webhook_events"] += webhook_events_erase(meta_ids=meta_ids, within=scope.within)
    # The law keeps what they ordered, not who they are.
    orders = OrderRecord.objects.filter(
        Q(contact__in=scope.contacts) | Q(customer_id__in=meta_ids) | Q(channel__in=scope.channels)
    )
    if data_request.organization_id is not None:
        orders = orders.filter(organization_id=data_request.organization_id)
    erased["order_records_anonymized"] += order_records_anonymize(orders)
    for channel in scope.channels:
        erased.update(
            conversations_erase(conversations=Conversation.objects.filter(channel=channel))
        )
    erased["exports"] += _customer_exports_delete(scope.contacts)
    erased.update(contacts_erase(contacts=scope.contacts))
    for channel in scope.channels:
        channel_delete(channel=channel)
        erased["channels"] += 1
    return RequestStatus.COMPLETED


def _customer_export(data_request: DataRequest, done: Counter[str]) -> str:
    """Build the ZIP of what the organisation holds on the matched contacts (nothing to
    build when none was matched), counting what it holds in `done`."""
    if not data_request.contacts.exists():
        return RequestStatus.COMPLETED
    export, _created = Export.objects.get_or_create(
        data_request=data_request, defaults={"organization": data_request.organization}
    )
    Export.objects.filter(pk=export.pk, status=ExportStatus.FAILED).update(
        status=ExportStatus.QUEUED, reason="", progress=0, claimed_at=None
    )
    export_build(export_id=export.pk)
    export.refresh_from_db()
    if export.status != ExportStatus.READY:
        raise ExportFailed(export.reason or export.status)
    with export.file.open("rb") as stored, zipfile.ZipFile(stored) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    done["records_exported"] += sum(manifest["files"].values())
    done["files_exported"] += manifest["stored_files"]
    return RequestStatus.COMPLETED


def data_request_carry_out(*, request_id: int) -> str:
    """Carry out a request waiting for a worker; returns its new status, "waiting" when
    it must wait for deliveries being recorded, or "skipped" when it is not waiting (or
    another worker has it). A failure is recorded with the error's kind only (its text
    may quote data), and the request is tried again later."""
    data_request = _claim(request_id)
    if data_request is None:
        return "skipped"
    erased: Counter[str] = Counter()
    work = _customer_export if data_request.kind == RequestKind.ACCESS else _erase
    try:
        outcome = work(data_request, erased)
    except Exception as error:
        logger.error("Data request %s failed: %s", data_request.pk, type(error).__name__)
        outcome = RequestStatus.FAILED
        reason = str(error) if isinstance(error, ExportFailed) else type(error).__name__
    else:
        reason = ""
    if outcome == WAITING:
        DataRequest.objects.filter(pk=data_request.pk).update(claimed_at=None)
        return WAITING
    # What each run erased adds up, a failed run's batches included.
    data_request.outcome = dict(+(Counter(data_request.outcome) + erased))
    data_request_move(data_request, outcome, reason=reason)
    return outcome

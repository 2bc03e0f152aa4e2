"""Carrying out data requests. Every change of a request's status is an audit event; the
work itself is asked of the app that owns the data."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import audit_record
from channels_meta.models import Channel, WebhookEventStatus
from channels_meta.services.channels import channel_delete, channel_disconnect
from channels_meta.webhooks.retention import webhook_events_erase, webhook_events_naming
from inbox.models import Contact
from inbox.services.erasure import contacts_erase
from privacy.models import DataRequest, RequestKind, RequestSource, RequestStatus

logger = logging.getLogger(__name__)

WAITING = "waiting"


def _move(data_request: DataRequest, status: str, *, reason: str = "") -> None:
    data_request.status = status
    data_request.reason = reason
    fields = ["status", "reason"]
    if status == RequestStatus.COMPLETED:
        data_request.completed_at = timezone.now()
        data_request.meta_user_id = ""  # done with it: only the numbers stay
        fields += ["completed_at", "meta_user_id", "outcome"]
    data_request.save(update_fields=fields)
    audit_record(
        action=f"data_request.{status}",
        organization=data_request.organization,
        target=str(data_request),
    )


@transaction.atomic
def meta_erasure_request(
    *, meta_user_id: str, source: str, carry_out: Callable[[int], None]
) -> DataRequest:
    """Meta asks, for a person who used Padu's app (its signed request verified them),
    that the data Padu holds through them be erased: recorded, then handed to
    `carry_out` (a worker) once this commits."""
    data_request = DataRequest.objects.create(
        kind=RequestKind.ERASURE, source=source, meta_user_id=meta_user_id
    )
    audit_record(action="data_request.received", target=str(data_request))
    _move(data_request, RequestStatus.VERIFIED)
    transaction.on_commit(lambda: carry_out(data_request.pk), robust=True)
    return data_request


def meta_app_removed(*, meta_user_id: str, carry_out: Callable[[int], None]) -> DataRequest:
    """The person removed Padu's app at Meta: the channels they connected stop at once
    (there is nothing left to release at Meta) and their Meta data is erased."""
    for channel in Channel.objects.connected().filter(meta_user_id=meta_user_id):
        channel_disconnect(channel=channel, actor=None, at_meta=False)
    return meta_erasure_request(
        meta_user_id=meta_user_id, source=RequestSource.META_DEAUTHORIZE, carry_out=carry_out
    )


def _meta_user_data(meta_user_id: str) -> tuple[list[Channel], list[int], list[str]]:
    """What Padu holds through a Meta user: the channels they connected, the contacts of
    those channels and any contact with their id, and the Meta ids those contacts have
    (which stored deliveries name)."""
    channels = list(Channel.objects.filter(meta_user_id=meta_user_id))
    contacts = Contact.objects.filter(
        Q(channel__in=channels) | Q(external_id=meta_user_id) | Q(other_id=meta_user_id)
    )
    contact_ids, meta_ids = [], {meta_user_id}
    for contact_id, external_id, other_id in contacts.values_list("pk", "external_id", "other_id"):
        contact_ids.append(contact_id)
        meta_ids.update(meta_id for meta_id in (external_id, other_id) if meta_id)
    return channels, contact_ids, sorted(meta_ids)


def _meta_user_erase(meta_user_id: str) -> dict[str, int] | str:
    channels, contact_ids, meta_ids = _meta_user_data(meta_user_id)
    if webhook_events_naming(meta_ids).filter(status=WebhookEventStatus.PENDING).exists():
        return WAITING  # their deliveries still being recorded would bring data back
    with transaction.atomic():
        outcome = contacts_erase(contacts=Contact.objects.filter(pk__in=contact_ids))
        outcome["webhook_events"] = webhook_events_erase(meta_ids=meta_ids)
        for channel in channels:
            channel_delete(channel=channel)
        outcome["channels"] = len(channels)
    return outcome


def data_request_carry_out(*, request_id: int) -> str:
    """Carry out a verified request (or one that failed before); returns its new status,
    "waiting" when it must be tried again later, or "skipped" when there is nothing to
    do. A failure is recorded on the request, without the error's text (which may quote
    data), and raised for the worker to retry."""
    with transaction.atomic():
        data_request = (
            DataRequest.objects.select_for_update()
            .filter(pk=request_id, status__in=[RequestStatus.VERIFIED, RequestStatus.FAILED])
            .first()
        )
        if data_request is None:
            return "skipped"
        if data_request.kind != RequestKind.ERASURE or not data_request.meta_user_id:
            return "skipped"
        _move(data_request, RequestStatus.IN_PROGRESS)
    try:
        outcome = _meta_user_erase(data_request.meta_user_id)
    except Exception as error:
        logger.exception("Data request %s failed", data_request.pk)
        _move(data_request, RequestStatus.FAILED, reason=type(error).__name__)
        raise
    if outcome == WAITING:
        _move(data_request, RequestStatus.VERIFIED)
        return WAITING
    data_request.outcome = outcome
    _move(data_request, RequestStatus.COMPLETED)
    return data_request.status

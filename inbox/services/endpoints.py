"""The organisation's event forwarding endpoints, as owners and admins set them up: each
with a URL checked against private networks, the events it wants and a signing secret
shown once; and a delivery sent again on request."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import RuleError
from accounts.models import AuditAction, Membership, Organization
from accounts.services import audit_record
from channels_meta import vault
from inbox.forwarding import addresses, signing
from inbox.models import DeliveryStatus, EventDelivery, EventType, WebhookEndpoint
from inbox.services.outbox import endpoints_kick, wanted

MAX_ENDPOINTS = 10


class EndpointRefused(RuleError):
    """An endpoint the organisation cannot have, said in words."""


def _check(membership: Membership, url: str, events: list[str]) -> None:
    if not membership.is_manager:
        raise EndpointRefused(_("Only owners and admins can set up event forwarding."))
    if not events or not set(events) <= set(EventType.values):
        raise EndpointRefused(_("Choose the events to forward."))
    try:
        addresses.check_url(url)
    except addresses.AddressRefused as refusal:
        raise EndpointRefused(str(refusal)) from None


def _secret_set(endpoint: WebhookEndpoint) -> str:
    secret = signing.new_secret()
    endpoint.secret_ciphertext = vault.encrypt_signing_secret(secret, endpoint_id=endpoint.pk)
    endpoint.save(update_fields=["secret_ciphertext"])
    return secret


@transaction.atomic
def endpoint_create(
    *, membership: Membership, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is shown this once."""
    _check(membership, url, events)
    organization = membership.organization
    if WebhookEndpoint.objects.for_org(organization).count() >= MAX_ENDPOINTS:
        raise EndpointRefused(
            _("An organisation can have at most %(count)d endpoints.") % {"count": MAX_ENDPOINTS}
        )
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=url,
        events=sorted(set(events)),
        description=description,
        created_by=membership.user,
    )
    secret = _secret_set(endpoint)
    audit_record(
        action=AuditAction.ENDPOINT_CREATED,
        organization=organization,
        actor=membership.user,
        target=url,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    membership: Membership,
    endpoint: WebhookEndpoint,
    url: str,
    events: list[str],
    description: str,
    is_active: bool,
) -> None:
    """Change what the endpoint receives and where; turning it on again resumes its
    deliveries where they stopped."""
    _check(membership, url, events)
    endpoint.url, endpoint.events, endpoint.description = url, sorted(set(events)), description
    fields = ["url", "events", "description"]
    if is_active != endpoint.is_active:
        endpoint.is_active = is_active
        endpoint.disabled_reason = (
            ""
            if is_active
            else _("Turned off by %(name)s.") % {"name": membership.user.get_full_name()}
        )
        endpoint.failing_since = None
        fields += ["is_active", "disabled_reason", "failing_since"]
    endpoint.save(update_fields=fields)
    audit_record(
        action=AuditAction.ENDPOINT_CHANGED,
        organization=membership.organization,
        actor=membership.user,
        target=url,
    )
    if endpoint.is_active:
        endpoints_kick([endpoint.pk])


def endpoint_secret_rotate(*, membership: Membership, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, at once (the old one stops signing); shown this once."""
    if not membership.is_manager:
        raise EndpointRefused(_("Only owners and admins can set up event forwarding."))
    secret = _secret_set(endpoint)
    audit_record(
        action=AuditAction.ENDPOINT_SECRET_ROTATED,
        organization=membership.organization,
        actor=membership.user,
        target=endpoint.url,
    )
    return secret


def endpoint_delete(*, membership: Membership, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its deliveries' log."""
    if not membership.is_manager:
        raise EndpointRefused(_("Only owners and admins can set up event forwarding."))
    endpoint.delete()
    audit_record(
        action=AuditAction.ENDPOINT_DELETED,
        organization=membership.organization,
        actor=membership.user,
        target=endpoint.url,
    )


@transaction.atomic
def delivery_redeliver(*, membership: Membership, delivery: EventDelivery) -> None:
    """Send the event to its endpoint again (with the same event id), now."""
    if not membership.is_manager:
        raise EndpointRefused(_("Only owners and admins can set up event forwarding."))
    EventDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now()
    )
    endpoints_kick([delivery.endpoint_id])


def bridge_mode_set(*, membership: Membership, enabled: bool) -> None:
    """Turn bridge mode on or off. On, it needs an active endpoint receiving
    message.created: message contents go only once every endpoint has them."""
    if not membership.is_manager:
        raise EndpointRefused(_("Only owners and admins can set up event forwarding."))
    organization = membership.organization
    if enabled and not wanted(organization.pk, EventType.MESSAGE_CREATED):
        raise EndpointRefused(
            _("Bridge mode needs an endpoint that is on and receives message.created.")
        )
    if organization.bridge_mode == enabled:
        return
    Organization.objects.filter(pk=organization.pk).update(bridge_mode=enabled)
    organization.bridge_mode = enabled
    audit_record(
        action=AuditAction.BRIDGE_MODE_CHANGED,
        organization=organization,
        actor=membership.user,
        target=_("on") if enabled else _("off"),
    )

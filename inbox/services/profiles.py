"""Customers' names and pictures on Messenger and Instagram, whose webhooks name them only
by an id: the worker asks Meta's User Profile APIs once for each new contact, and a sweep
catches those it missed; a picture named is then kept by `inbox.services.avatars`.
WhatsApp contacts are left alone: their webhooks carry the name the customer gave
WhatsApp."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls import customers
from channels_meta.graph.errors import PermanentError, ProfileUnavailable, TokenInvalid
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services.tokens import channel_token_get, token_refusal_handled
from inbox import live
from inbox.models import Contact, Conversation, ConversationKind
from inbox.services.avatars import contact_avatars_fetch_soon

logger = logging.getLogger(__name__)

PROFILE_KINDS = (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM)
# By name: the tasks module imports this one.
FETCH_TASK = "inbox.tasks.contact_profiles_fetch"
# The worker looks a new contact up within seconds; one still not looked up after this
# long was missed (a lost task, retries run out, a channel reconnected since).
SWEEP_AFTER_SECONDS = 5 * 60
SWEEP_LIMIT = 500


def contact_profiles_fetch_soon(*, channel: Channel, contact_ids: list[int]) -> None:
    """Have the worker look up the profiles of these new contacts of a Messenger or
    Instagram channel, in one task, once the transaction commits. A broker that is down
    loses nothing: the sweep finds them later."""
    if not contact_ids or channel.kind not in PROFILE_KINDS:
        return
    signature = current_app.signature(FETCH_TASK, args=(sorted(set(contact_ids)),))
    transaction.on_commit(signature.delay, robust=True)


def _profile_keep(contact: Contact, **found: str) -> None:
    """Note that Meta was asked, with what it showed; what it left out keeps its value.
    A picture not kept yet is fetched; a new link starts its tries afresh."""
    now = timezone.now()
    values: dict[str, object] = {field: value for field, value in found.items() if value}
    picture = values.get("profile_picture_url", "")
    if picture and picture != contact.profile_picture_url:
        values.update(avatar_attempts=0, avatar_reason="", avatar_claimed_at=None)
    Contact.objects.filter(pk=contact.pk).update(profile_checked_at=now, updated_at=now, **values)
    for field, value in {**values, "profile_checked_at": now}.items():
        setattr(contact, field, value)
    if values:
        live.contact_changed(contact)
    if picture and picture != contact.avatar_source:
        contact_avatars_fetch_soon(contact_ids=[contact.pk])


@sensitive_variables("token")
def contact_profile_fetch(*, contact_id: int) -> str:
    """Ask Meta once for a Messenger or Instagram customer's name, username and picture,
    and keep them on the contact (the name the team gave them stays). Returns "fetched";
    "unavailable" when Meta shows no profile (noted: not asked again); "needs_reauth"
    when Meta refuses the channel's token (the channel is flagged, the contact asked
    about again once it is reconnected); or "skipped": already asked, not a Messenger or
    Instagram contact, a channel that is not active or has no usable token. Meta's rate
    limits and failures (RateLimited, TransientError) go to the caller, to retry."""
    contact = (
        Contact.objects.select_related("channel__organization")
        .filter(pk=contact_id, profile_checked_at__isnull=True)
        .first()
    )
    if contact is None:
        return "skipped"
    channel = contact.channel
    if channel.kind not in PROFILE_KINDS or channel.status != ChannelStatus.ACTIVE:
        return "skipped"
    token = channel_token_get(channel=channel)
    if token is None:
        return "skipped"
    try:
        with token_refusal_handled(channel):
            profile = customers.user_profile_get(
                kind=channel.kind,
                account_id=channel.external_id,
                user_id=contact.external_id,
                token=token,
                instagram_login=channel.uses_instagram_login,
            )
    except TokenInvalid:
        return "needs_reauth"
    except ProfileUnavailable:
        _profile_keep(contact)
        return "unavailable"
    except PermanentError as error:
        # Not one of the refusals Meta documents for profiles; asking again would get
        # the same answer.
        logger.warning("Contact %s: Meta refused its profile: %s", contact.pk, error)
        _profile_keep(contact)
        return "unavailable"
    _profile_keep(
        contact,
        name=profile.name,
        username=profile.username,
        profile_picture_url=profile.picture_url,
    )
    return "fetched"


def contact_profiles_fetch(*, contact_ids: list[int]) -> dict[str, int]:
    """Look up each contact's profile (see `contact_profile_fetch`); how many had each
    outcome. A rate limit stops the round: those done so far are not asked again."""
    outcomes: dict[str, int] = {}
    for contact_id in contact_ids:
        outcome = contact_profile_fetch(contact_id=contact_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def contacts_profile_due(*, limit: int = SWEEP_LIMIT) -> list[int]:
    """Contacts whose profile should have been looked up by now and was not, newest
    first: Messenger and Instagram customers of active channels who wrote to the
    business (Meta shows a profile only then) at least `SWEEP_AFTER_SECONDS` ago."""
    cutoff = timezone.now() - timedelta(seconds=SWEEP_AFTER_SECONDS)
    customer_wrote = Conversation.objects.filter(
        contact=OuterRef("pk"), kind=ConversationKind.DM, last_inbound_at__isnull=False
    )
    return list(
        Contact.objects.filter(
            profile_checked_at__isnull=True,
            created_at__lt=cutoff,
            channel__kind__in=PROFILE_KINDS,
            channel__status=ChannelStatus.ACTIVE,
        )
        .filter(Exists(customer_wrote))
        .order_by("-created_at")
        .values_list("pk", flat=True)[:limit]
    )

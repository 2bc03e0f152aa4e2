"""Customers' profile pictures, kept by Padu: Meta's picture links expire, and Padu's
pages show images from Padu alone. Once a profile names a picture (or another one), a
worker downloads it through the Graph layer, from the hosts Meta serves pictures from
and within PICTURE_MAX_BYTES, keeps it only when its bytes are an image, and stores a
small square of it through Django's storage API under a name nobody can guess, as
attachments are stored. Members of the organisation see it instead of the initials.

`avatar_source` is the picture link Padu last finished with: kept as `avatar`, or given
up on with the reason in `avatar_reason` (the initials stay). A link not finished with
is fetched by one worker at a time, MAX_ATTEMPTS times at most: when Meta fails it is
tried again (the task's retries, then the sweep); a refusal that would come again (not
an image, too large, not on Meta's hosts, gone) ends the tries at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import BinaryIO

from celery import current_app
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_meta.graph.calls import downloads as graph_downloads
from channels_meta.graph.errors import GraphError, RateLimited, TransientError
from inbox import filetypes, live
from inbox.models import Contact
from inbox.services import downloads

# By name: the tasks module imports this one.
FETCH_TASK = "inbox.tasks.contact_avatars_fetch"
# A profile picture is small; a larger file is not kept.
PICTURE_MAX_BYTES = 5 * 1024 * 1024
# The side of the square kept: twice the largest the inbox shows, for sharp screens.
AVATAR_PIXELS = 128
MAX_ATTEMPTS = 5
# A claim older than this belongs to a worker that died; another may take the picture.
CLAIM_SECONDS = 15 * 60
# The sweep takes up pictures still not kept this long after the profile was fetched.
SWEEP_AFTER_SECONDS = 5 * 60
SWEEP_LIMIT = 500


def contact_avatars_fetch_soon(*, contact_ids: list[int]) -> None:
    """Have the worker keep these contacts' pictures, in one task, once the transaction
    commits. A broker that is down loses nothing: the sweep finds them later."""
    if not contact_ids:
        return
    signature = current_app.signature(FETCH_TASK, args=(sorted(set(contact_ids)),))
    transaction.on_commit(signature.delay, robust=True)


def _unsettled() -> QuerySet[Contact]:
    """Contacts whose profile names a picture Padu has not finished with."""
    return Contact.objects.exclude(profile_picture_url="").exclude(
        profile_picture_url=F("avatar_source")
    )


def _claim(contact: Contact) -> object | None:
    """Take the contact's picture for this worker: the claim's time, or None when it is
    finished with, tried enough, or another worker has it."""
    now = timezone.now()
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        _unsettled()
        .filter(
            pk=contact.pk,
            profile_picture_url=contact.profile_picture_url,
            avatar_attempts__lt=MAX_ATTEMPTS,
        )
        .filter(Q(avatar_claimed_at__isnull=True) | Q(avatar_claimed_at__lt=stale))
        .update(avatar_claimed_at=now, avatar_attempts=F("avatar_attempts") + 1)
    )
    return now if claimed == 1 else None


def _mine(contact: Contact, claimed_at: object) -> QuerySet[Contact]:
    """The contact while this worker's claim holds and its picture link is the same."""
    return Contact.objects.filter(
        pk=contact.pk, profile_picture_url=contact.profile_picture_url, avatar_claimed_at=claimed_at
    )


def _square(spool: BinaryIO) -> bytes:
    found = filetypes.identify(spool)
    if found.family != "image":
        raise filetypes.Refused(_("The customer's picture is not an image."))
    return filetypes.thumbnail(spool, size=AVATAR_PIXELS, square=True)


def _forget(contact: Contact, name: str) -> None:
    """Delete a picture no longer kept from storage."""
    if name:
        contact.avatar.storage.delete(name)


def _keep(contact: Contact, claimed_at: object, square: bytes) -> str:
    previous = contact.avatar.name
    kept = downloads.files_store(
        lambda: _mine(contact, claimed_at).update(
            avatar=contact.avatar.name,
            avatar_source=F("profile_picture_url"),
            avatar_reason="",
            avatar_claimed_at=None,
        ),
        (contact.avatar, "avatar.jpg", ContentFile(square)),
    )
    if not kept:
        return "skipped"
    _forget(contact, previous)
    live.contact_changed(contact)
    return "stored"


def _give_up(contact: Contact, claimed_at: object, reason: str) -> str:
    """Finish with the link without a picture: the initials show, and why is noted."""
    given_up = _mine(contact, claimed_at).update(
        avatar="",
        avatar_source=F("profile_picture_url"),
        avatar_reason=reason[:300],
        avatar_claimed_at=None,
    )
    if not given_up:
        return "skipped"
    _forget(contact, contact.avatar.name)
    return "failed"


def contact_avatar_fetch(*, contact_id: int) -> str:
    """Keep the picture the contact's profile names, fetched by one worker at a time and
    stored once. Returns "stored"; "failed" when it cannot be kept (why is noted, and
    the initials stay); or "skipped": no picture, already finished with, tried enough,
    or not this worker's. Meta failing (TransientError, RateLimited) before the last
    try gives the picture back and is raised for a retry."""
    contact = _unsettled().filter(pk=contact_id).first()
    if contact is None:
        return "skipped"
    claimed_at = _claim(contact)
    if claimed_at is None:
        return "skipped"
    contact.refresh_from_db(fields=["avatar", "avatar_attempts"])
    try:
        with downloads.spool() as spool:
            graph_downloads.profile_picture_download(
                url=contact.profile_picture_url, into=spool, max_bytes=PICTURE_MAX_BYTES
            )
            square = _square(spool)
        return _keep(contact, claimed_at, square)
    except filetypes.Refused as refusal:
        return _give_up(contact, claimed_at, str(refusal))
    except (RateLimited, TransientError) as error:
        if contact.avatar_attempts >= MAX_ATTEMPTS:
            return _give_up(
                contact, claimed_at, downloads.unreachable_reason(contact.avatar_attempts, error)
            )
        _mine(contact, claimed_at).update(avatar_claimed_at=None)
        raise
    except GraphError as error:
        return _give_up(contact, claimed_at, downloads.refusal_reason(error))
    except BaseException:
        _mine(contact, claimed_at).update(avatar_claimed_at=None)
        raise


def contact_avatars_fetch(*, contact_ids: list[int]) -> dict[str, int]:
    """Keep each contact's picture (see `contact_avatar_fetch`); how many had each
    outcome. Meta asking to slow down or failing is raised once the others were tried,
    so a retry fetches what is left."""
    return downloads.each_fetched(
        lambda contact_id: contact_avatar_fetch(contact_id=contact_id), contact_ids
    )


def contacts_avatar_due(*, limit: int = SWEEP_LIMIT) -> list[int]:
    """Contacts whose picture should have been kept by now and was not, and that no
    worker is on (a lost task, a worker that died, Meta failing), newest profile first;
    each is tried MAX_ATTEMPTS times at most."""
    now = timezone.now()
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    return list(
        _unsettled()
        .filter(
            avatar_attempts__lt=MAX_ATTEMPTS,
            profile_checked_at__lt=now - timedelta(seconds=SWEEP_AFTER_SECONDS),
        )
        .filter(Q(avatar_claimed_at__isnull=True) | Q(avatar_claimed_at__lt=stale))
        .order_by("-profile_checked_at")
        .values_list("pk", flat=True)[:limit]
    )


def contact_avatars_erase(*, contacts: QuerySet[Contact]) -> int:
    """Delete these contacts' kept pictures from storage and forget them (their links
    stay finished with, so none is fetched again); returns how many there were. A
    picture being fetched meanwhile is not kept either."""
    erased = 0
    for contact in contacts.exclude(avatar="").only("pk", "avatar").iterator(chunk_size=500):
        _forget(contact, contact.avatar.name)
        erased += 1
    contacts.update(avatar="", avatar_source=F("profile_picture_url"), avatar_claimed_at=None)
    return erased

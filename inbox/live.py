"""What open inbox pages poll to learn that something changed, across every web and worker
process: a stamp per organisation and per conversation in the shared cache (Redis, or
files in the embedded default), set after the change commits. A page holding an older
stamp reloads what it shows; a stamp lost with the cache only costs one reload."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
STAMP_SECONDS = 24 * 3600
# How long a figure kept per change may serve, should a change not move the stamp (its
# publication lost, a purge).
PER_CHANGE_SECONDS = 60
T = TypeVar("T")


def _organization_key(organization_id: int) -> str:
    return f"inbox:live:{organization_id}"


def _conversation_key(conversation_id: int) -> str:
    return f"inbox:live:c:{conversation_id}"


def changed(*, organization_id: int, conversation_ids: Iterable[int] = ()) -> None:
    """Tell open pages, once the current transaction commits, that the organisation's
    inbox and these conversations changed."""
    conversation_ids = list(conversation_ids)

    def publish() -> None:
        stamp = str(time.time_ns())
        stamps = {_organization_key(organization_id): stamp}
        stamps.update({_conversation_key(pk): stamp for pk in conversation_ids})
        try:
            cache.set_many(stamps, timeout=STAMP_SECONDS)
        except Exception:  # the cache down must not undo or fail what was recorded
            logger.warning("Could not publish an inbox change to the cache.", exc_info=True)

    transaction.on_commit(publish)


def contact_changed(contact) -> None:
    """Tell open pages that what they show of a customer (name, picture, the team's
    fields) changed: the list, and each of the customer's conversations."""
    conversation_ids = contact.conversations.values_list("pk", flat=True)
    changed(organization_id=contact.organization_id, conversation_ids=list(conversation_ids))


def stamps(*, organization_id: int, conversation_id: int | None = None) -> tuple[str, str]:
    """The organisation's and the conversation's current stamps ("0" when unknown)."""
    keys = [_organization_key(organization_id)]
    if conversation_id:
        keys.append(_conversation_key(conversation_id))
    try:
        found = cache.get_many(keys)
    except Exception:
        logger.warning("Could not read inbox changes from the cache.", exc_info=True)
        found = {}
    conversation = found.get(keys[1], "0") if conversation_id else ""
    return found.get(keys[0], "0"), conversation


def per_change(*, organization_id: int, stamp: str, name: str, compute: Callable[[], T]) -> T:
    """`compute()`, kept for the organisation's inbox as it is at `stamp` (from `stamps`):
    pages reading the same state share one computation, and the next change moves the
    stamp past it. Computed afresh when the stamp is unknown or the cache is down."""
    if stamp in ("", "0"):
        return compute()
    digest = hashlib.blake2b(name.encode(), digest_size=16).hexdigest()
    key = f"inbox:live:kept:{organization_id}:{stamp}:{digest}"
    try:
        kept = cache.get(key)
    except Exception:
        logger.warning("Could not read from the cache.", exc_info=True)
        return compute()
    if kept is not None:
        return kept
    value = compute()
    try:
        cache.set(key, value, timeout=PER_CHANGE_SECONDS)
    except Exception:
        logger.warning("Could not write to the cache.", exc_info=True)
    return value

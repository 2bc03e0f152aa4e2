"""Pure functions from Meta's webhook payloads (META.md) to normalized events, one
module per kind of payload: `messaging` (Messenger and Instagram direct messages),
`comments` (Instagram comments, live comments and mentions), `whatsapp`.

They never raise on odd input: an item they cannot read becomes `Unparsed` with the
reason, and the rest of the batch is still read.
"""

from __future__ import annotations

from typing import Any

from channels_meta.webhooks.events import Unparsed
from channels_meta.webhooks.parsers import messaging, whatsapp
from channels_meta.webhooks.parsers.common import as_dict, as_list, as_str

OBJECT_KINDS = {"page": "messenger", "instagram": "instagram"}


def parse(payload: Any) -> list:
    """Every event in one webhook delivery, in the order Meta listed them."""
    if not isinstance(payload, dict):
        return [Unparsed("The body is not a JSON object.")]
    object_type = as_str(payload.get("object"))
    events: list = []
    for entry in as_list(payload.get("entry")):
        entry = as_dict(entry)
        try:
            if object_type in OBJECT_KINDS:
                events.extend(messaging.entry_events(OBJECT_KINDS[object_type], entry))
            elif object_type == "whatsapp_business_account":
                events.extend(whatsapp.entry_events(entry))
            else:
                events.append(Unparsed(f"Unknown object {object_type!r}."))
        except Exception as error:  # a malformed entry must not hide the others
            events.append(Unparsed(f"Unreadable entry: {type(error).__name__}: {error}"[:300]))
    if not events and not as_list(payload.get("entry")):
        events.append(Unparsed("The delivery has no entries."))
    return events

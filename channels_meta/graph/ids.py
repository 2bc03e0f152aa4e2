"""Meta's ids, checked before they name anything Padu stores or calls."""

from __future__ import annotations

import re

from channels_meta.graph.errors import UnsafeRequest

# Meta's node ids (Pages, accounts, phone numbers, users) are decimal numbers.
NODE_ID_PATTERN = re.compile(r"[0-9]{1,32}")


def node_id(value: object) -> str:
    """`value` as a Graph node id (digits only), or UnsafeRequest. Every id that goes
    into a Graph path passes through here."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not NODE_ID_PATTERN.fullmatch(value):
        raise UnsafeRequest("That is not a Meta id (Meta's ids are digits only).")
    return value

"""What the connect flows find at Meta, and how they refuse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.errors import RuleError


class ChannelError(RuleError):
    """Connecting or changing a channel failed; the message is for the person who tried."""


@dataclass
class ConnectedAccount:
    """An account Meta let us act for, as the connect flows find it."""

    kind: str
    external_id: str
    name: str
    token: str
    handle: str = ""
    waba_id: str = ""
    # The Page a Page-linked Instagram account gets its webhooks through.
    page_id: str = ""
    token_expires_at: datetime | None = None
    scopes: list[str] | None = None
    meta_user_id: str = ""
    uses_instagram_login: bool = False

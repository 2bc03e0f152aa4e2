"""Normalized webhook events: what the parsers make of Meta's payloads, and what the
inbox records. Plain data, independent of Meta's shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Route:
    kind: str  # messenger | instagram | whatsapp
    external_id: str  # Page id, Instagram account id, WhatsApp phone number id or WABA id
    by_waba: bool = False


@dataclass(frozen=True)
class MessageEvent:
    """A message from the customer, or (is_echo) one the business sent from anywhere."""

    route: Route
    customer_id: str
    external_id: str
    at: datetime
    text: str = ""
    attachments: tuple = ()
    reply_to: str = ""
    extra: dict = field(default_factory=dict, hash=False)
    is_echo: bool = False
    app_id: str = ""
    is_deleted: bool = False
    customer_name: str = ""
    customer_username: str = ""
    customer_phone: str = ""


@dataclass(frozen=True)
class StatusEvent:
    """Meta's word on outbound messages: by id (`external_ids`) or, for Messenger
    receipts, every outbound message up to `watermark`."""

    route: Route
    customer_id: str
    status: str  # sent | delivered | read | failed
    at: datetime
    external_ids: tuple = ()
    watermark: datetime | None = None
    error_code: int | None = None
    error_reason: str = ""


@dataclass(frozen=True)
class ReactionEvent:
    route: Route
    customer_id: str
    target_external_id: str
    emoji: str  # empty when the reaction was removed
    at: datetime


@dataclass(frozen=True)
class CommentEvent:
    route: Route
    comment_id: str
    media_id: str
    customer_id: str
    username: str
    text: str
    at: datetime
    parent_id: str = ""


@dataclass(frozen=True)
class TemplateStatusEvent:
    route: Route  # by_waba
    name: str
    language: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Unparsed:
    """Something in the payload Padu does not handle (kept for the record)."""

    reason: str

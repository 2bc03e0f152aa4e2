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
    """A message from the customer, or (is_echo) one the business sent from anywhere.

    `customer_id` is the id the contact is keyed on: the PSID, IGSID or WhatsApp phone
    id when Meta gives one, else the only id it gave (a WhatsApp business-scoped user id,
    a Messenger user_ref). `customer_other_id` is that second kind of id when Meta sent
    it, so a contact first known by one is found again by the other."""

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
    customer_other_id: str = ""
    kind: str = "message"  # message | system (a line about the conversation, not a bubble)
    referral: dict = field(default_factory=dict, hash=False)  # the ad or link it came from


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
    # What else Meta said about the message: WhatsApp's pricing, conversation,
    # biz_opaque_callback_data, the errors in full.
    details: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ReactionEvent:
    route: Route
    customer_id: str
    target_external_id: str
    emoji: str  # empty when the reaction was removed
    at: datetime


@dataclass(frozen=True)
class EditEvent:
    """The sender changed a message they sent: its new text (and, for WhatsApp media,
    caption and attachments)."""

    route: Route
    customer_id: str
    target_external_id: str
    text: str
    at: datetime
    attachments: tuple | None = None  # None: the edit says nothing about them
    extra: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class DeletionEvent:
    """The sender deleted (WhatsApp: revoked) a message they sent."""

    route: Route
    customer_id: str
    target_external_id: str
    at: datetime


@dataclass(frozen=True)
class ContactChangeEvent:
    """Meta says a customer's ids changed (a WhatsApp customer changed their number, so
    their phone id and business-scoped user id), or their identity did (a new phone or
    reinstalled WhatsApp: a new security code)."""

    route: Route
    customer_id: str
    at: datetime
    new_customer_id: str = ""
    new_other_id: str = ""
    customer_other_id: str = ""
    identity_changed: bool = False


@dataclass(frozen=True)
class PreferenceEvent:
    """A customer stopped or resumed a kind of message (WhatsApp `user_preferences`:
    category `marketing_messages`, value `stop` or `resume`)."""

    route: Route
    customer_id: str
    category: str
    value: str
    at: datetime
    customer_other_id: str = ""
    customer_name: str = ""


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
    extra: dict = field(default_factory=dict, hash=False)  # live, mention, media type


@dataclass(frozen=True)
class TemplateStatusEvent:
    route: Route  # by_waba
    name: str
    language: str
    status: str
    reason: str = ""
    template_id: str = ""
    category: str = ""


@dataclass(frozen=True)
class Unparsed:
    """Something in the payload Padu does not handle (kept for the record). `lost` marks
    something a customer sent that could not be stored: the delivery is then marked
    failed, so staff see it and can replay it once Padu can read it."""

    reason: str
    lost: bool = False


# WhatsApp Business Account health (parsers/health.py reads them).


@dataclass(frozen=True)
class AccountUpdateEvent:
    """account_update: the WhatsApp Business Account's standing changed (ban, restriction,
    violation, partner sharing, deletion, offboarding)."""

    route: Route  # by_waba
    event: str
    ban_state: str = ""
    ban_date: str = ""
    violation_type: str = ""
    # ({"type", "expiration" (ISO date or ""), "remediation"}, ...)
    restrictions: tuple = ()
    disconnection_reason: str = ""


@dataclass(frozen=True)
class PhoneQualityEvent:
    """phone_number_quality_update: a number's quality or messaging limit changed."""

    route: Route  # by_waba; the number is `display_phone_number`
    display_phone_number: str
    event: str
    current_limit: str = ""
    old_limit: str = ""


@dataclass(frozen=True)
class PhoneNameEvent:
    """phone_number_name_update: Meta reviewed a number's display name."""

    route: Route  # by_waba; the number is `display_phone_number`
    display_phone_number: str
    decision: str
    requested_name: str = ""
    rejection_reason: str = ""


@dataclass(frozen=True)
class TemplateQualityEvent:
    """message_template_quality_update: a template's quality score changed."""

    route: Route  # by_waba
    name: str
    language: str
    new_score: str
    previous_score: str = ""
    template_id: str = ""


@dataclass(frozen=True)
class TemplateCategoryEvent:
    """template_category_update: Meta changed a template's category, or will at
    `change_at` (then `new_category` is still the current one)."""

    route: Route  # by_waba
    name: str
    language: str
    new_category: str
    previous_category: str = ""
    correct_category: str = ""
    change_at: datetime | None = None
    template_id: str = ""

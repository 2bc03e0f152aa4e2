"""WhatsApp Business Account webhooks about health rather than messages: the account's
standing, a number's quality, limit and display name, and templates' status, quality
and category. Shapes from Meta's webhook reference for each field.

Like the other parsers they never raise on odd input. All of them route by the WhatsApp
Business Account (`entry.id`); the phone-number fields name their number only by its
display number, which the recording service matches to a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from channels_meta.webhooks.events import (
    AccountUpdateEvent,
    PhoneNameEvent,
    PhoneQualityEvent,
    Route,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
    Unparsed,
)
from channels_meta.webhooks.parsers.common import as_dict, as_list, as_str


def _code(value: Any) -> str:
    """An upper-case code word of Meta's ("" for null and the "NONE" placeholder)."""
    word = as_str(value).strip().upper()
    return "" if word in {"NONE", "NULL"} else word[:64]


def _date(value: Any) -> datetime | None:
    """A Unix timestamp (seconds, as a number or a string), or None."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _route(waba_id: str) -> Route:
    return Route("whatsapp", waba_id, by_waba=True)


def account_update(waba_id: str, value: dict) -> Iterator:
    # Partner events (PARTNER_ADDED, PARTNER_REMOVED, PARTNER_APP_*) come on the partner's
    # business portfolio: the customer's account is in waba_info.
    waba_info = as_dict(value.get("waba_info"))
    waba = as_str(waba_info.get("waba_id")) or waba_id
    event = _code(value.get("event"))
    if not event:
        yield Unparsed("An account_update without an event.")
        return
    ban = as_dict(value.get("ban_info"))
    ban_state = ban.get("waba_ban_state")
    # One of Meta's samples lists the states; the reference gives one string.
    if isinstance(ban_state, list):
        ban_state = ban_state[-1] if ban_state else ""
    restrictions = []
    for item in map(as_dict, as_list(value.get("restriction_info"))):
        expiration = _date(item.get("expiration"))
        restrictions.append(
            {
                "type": _code(item.get("restriction_type")),
                "expiration": expiration.isoformat() if expiration else "",
                "remediation": as_str(item.get("remediation"))[:500],
            }
        )
    yield AccountUpdateEvent(
        route=_route(waba),
        event=event,
        ban_state=_code(ban_state),
        ban_date=as_str(ban.get("waba_ban_date"))[:64],
        violation_type=_code(as_dict(value.get("violation_info")).get("violation_type")),
        restrictions=tuple(restrictions),
        disconnection_reason=_code(as_dict(value.get("disconnection_info")).get("reason")),
    )


def phone_number_quality_update(waba_id: str, value: dict) -> Iterator:
    yield PhoneQualityEvent(
        route=_route(waba_id),
        display_phone_number=as_str(value.get("display_phone_number")),
        event=_code(value.get("event")),
        # current_limit is being replaced by max_daily_conversations_per_business.
        current_limit=_code(
            value.get("max_daily_conversations_per_business") or value.get("current_limit")
        ),
        old_limit=_code(value.get("old_limit")),
    )


def phone_number_name_update(waba_id: str, value: dict) -> Iterator:
    yield PhoneNameEvent(
        route=_route(waba_id),
        display_phone_number=as_str(value.get("display_phone_number")),
        decision=_code(value.get("decision")),
        requested_name=as_str(value.get("requested_verified_name"))[:200],
        rejection_reason=_code(value.get("rejection_reason")),
    )


def _status_reason(value: dict) -> str:
    """Meta's explanation of a template status, in its own words: the reason code, the
    pause title and description, the rejection details, the disabling date."""
    other = as_dict(value.get("other_info"))
    rejection = as_dict(value.get("rejection_info"))
    disabled = _date(as_dict(value.get("disable_info")).get("disable_date"))
    parts = [
        _code(value.get("reason")),
        _code(other.get("title")),
        as_str(other.get("description")),
        as_str(rejection.get("reason")),
        as_str(rejection.get("recommendation")),
        f"disabled {disabled:%Y-%m-%d}" if disabled else "",
    ]
    return " — ".join(part for part in parts if part)[:500]


def message_template_status_update(waba_id: str, value: dict) -> Iterator:
    yield TemplateStatusEvent(
        route=_route(waba_id),
        name=as_str(value.get("message_template_name")),
        language=as_str(value.get("message_template_language")),
        status=_code(value.get("event")),
        reason=_status_reason(value),
        template_id=as_str(value.get("message_template_id")),
        category=_code(value.get("message_template_category")),
    )


def message_template_quality_update(waba_id: str, value: dict) -> Iterator:
    yield TemplateQualityEvent(
        route=_route(waba_id),
        name=as_str(value.get("message_template_name")),
        language=as_str(value.get("message_template_language")),
        new_score=_code(value.get("new_quality_score")),
        previous_score=_code(value.get("previous_quality_score")),
        template_id=as_str(value.get("message_template_id")),
    )


def template_category_update(waba_id: str, value: dict) -> Iterator:
    yield TemplateCategoryEvent(
        route=_route(waba_id),
        name=as_str(value.get("message_template_name")),
        language=as_str(value.get("message_template_language")),
        new_category=_code(value.get("new_category")),
        previous_category=_code(value.get("previous_category")),
        correct_category=_code(value.get("correct_category")),
        change_at=_date(value.get("category_update_timestamp")),
        template_id=as_str(value.get("message_template_id")),
    )


# Each WhatsApp Business Account field this module reads, with its parser:
# `parser(waba_id, value)` yields normalized events.
FIELDS: dict[str, Callable[[str, dict], Iterator]] = {
    "account_update": account_update,
    "phone_number_quality_update": phone_number_quality_update,
    "phone_number_name_update": phone_number_name_update,
    "message_template_status_update": message_template_status_update,
    "message_template_quality_update": message_template_quality_update,
    "template_category_update": template_category_update,
}

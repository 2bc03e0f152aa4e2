"""What Meta's refusals become: typed exceptions whose messages never contain a token.

The codes follow Meta's error handling guide (Graph API), the Messenger and Instagram
error tables and the WhatsApp Cloud API error codes; META.md sums them up.

`str(error)` is for logs and platform staff: Meta's message and its codes. People see
`error.explain()`: what happened, in words a business owner understands, never a code.
"""

from __future__ import annotations

import json
import re

import httpx
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Throttling: Graph API (4 app, 17 user, 32 Page, 613 custom, 341 application limit),
# business use case limits (80001-80009, 80014) and WhatsApp (130429, 131056).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80010), 80014, 130429, 131056})
# 368: "temporarily blocked for policies violations".
POLICY_BLOCK_CODES = frozenset({368})
# 102: the session expired; 190: the token is invalid, expired or revoked.
TOKEN_CODES = frozenset({102, 190})
# 10 and 200-299: a permission was never granted or has been removed.
PERMISSION_CODES = frozenset({10, *range(200, 300)})
# Refusals under a permission code that are about the window, one person or one request,
# not about what the token may do: reconnecting would not help.
OUTSIDE_WINDOW_SUBCODES = frozenset({2018065, 2018278, 2534022})
OUTSIDE_WINDOW_CODES = frozenset({131047})
NOT_A_PERMISSION_SUBCODES = frozenset(
    {
        2018108,  # Messenger: this person isn't receiving messages from you right now
        1545041,  # Messenger: this person isn't available right now
        2534023,  # Instagram: the comment already has a private reply
    }
)
# Why Meta stopped accepting a token, by 190's subcode (Graph API error handling guide):
# the key is what a channel keeps as the reason it needs reconnecting.
TOKEN_SUBCODE_REASONS = {
    458: "app_removed",
    459: "checkpoint",
    460: "password_changed",
    463: "token_expired",
    464: "unconfirmed",
    467: "token_invalid",
    492: "role_removed",
}
SESSION_EXPIRED_CODE = 102
# The same reasons in words, for the business. A sentence each: what Meta did and why.
TOKEN_REASON_WORDS = {
    "app_removed": gettext_lazy(
        "Padu was removed from the Meta account that connected this channel."
    ),
    "checkpoint": gettext_lazy(
        "Meta wants the person who connected this channel to log in to Facebook and pass "
        "a security check."
    ),
    "password_changed": gettext_lazy(
        "Meta ended the connection because the password of the account that connected "
        "this channel was changed."
    ),
    "token_expired": gettext_lazy("The access Meta gave Padu for this channel has expired."),
    "session_expired": gettext_lazy(
        "Meta ended the session of the account that connected this channel."
    ),
    "unconfirmed": gettext_lazy(
        "Meta paused the connection until the account that connected this channel is confirmed."
    ),
    "token_invalid": gettext_lazy("Meta no longer accepts the connection to this channel."),
    "role_removed": gettext_lazy(
        "The person who connected this channel no longer has a role on its Page or account."
    ),
    "permission_missing": gettext_lazy(
        "Meta says a permission Padu needs for this channel was not granted or was removed."
    ),
}
# What a permanent refusal means, by Meta's subcode or code, for the ones people meet.
PERMANENT_WORDS = {
    2018001: gettext_lazy("Meta cannot find this person."),
    2018108: gettext_lazy("This person is not receiving messages from the business right now."),
    1545041: gettext_lazy("This person is not available on Meta right now."),
    551: gettext_lazy("This person is not available on Meta right now."),
    2534023: gettext_lazy("This comment already has its private reply."),
    131026: gettext_lazy(
        "WhatsApp could not deliver the message: the number may not use WhatsApp, or its "
        "app may be too old."
    ),
    131048: gettext_lazy(
        "WhatsApp is limiting this number's messages because customers reported too many as spam."
    ),
    36007: gettext_lazy("The sign-in at Meta expired before Padu could finish: connect again."),
    36009: gettext_lazy("This sign-in at Meta was already used: connect again."),
    36008: gettext_lazy(
        "Meta's sign-in came back to another address than it started from: the person "
        "running Padu should check SITE_URL and the Meta app's redirect URI."
    ),
    133005: gettext_lazy("The two-step verification PIN is not the one set for this number."),
    132001: gettext_lazy("This template does not exist in that language."),
    100: gettext_lazy("Meta did not accept something Padu sent."),
}
# Meta names the app's id or secret it refused only in its message (codes 100 and 101).
APP_CREDENTIALS_PATTERN = re.compile(r"validating (?:client secret|application)", re.IGNORECASE)
DEFAULT_RETRY_AFTER_SECONDS = 60.0
# Meta does not say how long a policy block lasts; check again in an hour.
POLICY_BLOCK_RETRY_AFTER_SECONDS = 3600.0
# Meta's user, page and system-user tokens, and Instagram Login tokens.
TOKEN_PATTERN = re.compile(r"\b(?:EAA|IGQ|IGA|IG)[A-Za-z0-9_\-]{16,}")
# Permission names as Meta writes them in messages: "(#200) Requires pages_messaging
# permission", "... the instagram_manage_messages permission(s) must be granted".
PERMISSION_NAME_PATTERN = re.compile(
    r"\b((?:pages|instagram|whatsapp|business|ads|read|publish|user|email|public)"
    r"_[a-z_]+)\b"
)


class GraphError(Exception):
    """An answer from Meta that is not a success, or no answer at all."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id

    def __str__(self) -> str:
        codes = "/".join(str(part) for part in (self.code, self.subcode) if part is not None)
        return f"{self.message} (Meta error {codes})" if codes else self.message

    def explain(self) -> str:
        """What happened, in a sentence for the business: no code, no Meta jargon."""
        return _("Meta refused the request.")


class TokenInvalid(GraphError):
    """Codes 102 and 190: the session or token expired, was revoked, or the password
    changed. The channel needs reconnecting."""

    @property
    def reason(self) -> str:
        """Why, as a key of TOKEN_REASON_WORDS (Meta's subcode says, when it does)."""
        if self.code == SESSION_EXPIRED_CODE:
            return "session_expired"
        return TOKEN_SUBCODE_REASONS.get(self.subcode or 0, "token_invalid")

    def explain(self) -> str:
        return str(TOKEN_REASON_WORDS[self.reason])


class PermissionMissing(TokenInvalid):
    """Codes 10 and 200-299: the token works but lacks a permission (never granted, or
    removed). Reconnecting, and granting `permission` then, puts it right."""

    @property
    def permission(self) -> str:
        """The permission Meta named in its message, or "" when it named none."""
        found = PERMISSION_NAME_PATTERN.search(self.message)
        return found.group(1) if found else ""

    @property
    def reason(self) -> str:
        return "permission_missing"

    def explain(self) -> str:
        if self.permission:
            return _("Meta says the %(permission)s permission was not granted or was removed.") % {
                "permission": self.permission
            }
        return super().explain()


class OutsideWindow(GraphError):
    """The messaging window for this person is closed."""

    def explain(self) -> str:
        if self.code in OUTSIDE_WINDOW_CODES:
            return _(
                "More than 24 hours have passed since the customer last wrote: WhatsApp "
                "allows only an approved template now."
            )
        return _("The customer last wrote too long ago for Meta to allow this reply.")


class RateLimited(GraphError):
    """Too many calls; try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = DEFAULT_RETRY_AFTER_SECONDS, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def explain(self) -> str:
        return _("Meta asked Padu to slow down. Try again in a few minutes.")


class PolicyBlocked(RateLimited):
    """Code 368: Meta blocks this account for a while for a policy reason. Retry later;
    the channel's owners and admins are told."""

    def explain(self) -> str:
        return _("Meta has blocked this account from sending for a while, for a policy reason.")


class PermanentError(GraphError):
    """The request will never succeed as it is (bad parameter, person unavailable, spam)."""

    def explain(self) -> str:
        if APP_CREDENTIALS_PATTERN.search(self.message):
            return _(
                "Meta did not accept Padu's app id or secret: the person running Padu should "
                "check its Meta app settings."
            )
        for key in (self.subcode, self.code):
            if key in PERMANENT_WORDS:
                return str(PERMANENT_WORDS[key])
        return super().explain()


class ProfileUnavailable(PermanentError):
    """Meta shows Padu no profile of this person: they have not written to the account
    (Instagram asks for their consent first), they blocked it, or they have none (a
    Messenger account made with a phone number). Asking again will not change that."""


class TransientError(GraphError):
    """Meta failed or could not be reached; the same request may succeed later."""

    def explain(self) -> str:
        return _("Meta could not be reached or had a passing problem. Try again in a few minutes.")


class MediaTooLarge(PermanentError):
    """An attachment is larger than Padu keeps; what was downloaded must be thrown away."""

    def __init__(self, message: str, *, limit: int, **kw) -> None:
        super().__init__(message, **kw)
        self.limit = limit


class UnsafeRequest(PermanentError):
    """Padu refused to send a request: it would have left Meta's hosts or carried an id
    that is not one of Meta's."""

    def explain(self) -> str:
        return _("Padu did not send a request that would have left Meta or named an unknown id.")


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every known secret and anything shaped like a Meta token removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return TOKEN_PATTERN.sub("[redacted]", text)


def _usage_header(response: httpx.Response, name: str) -> object:
    try:
        return json.loads(response.headers.get(name, ""))
    except ValueError:
        return None


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _retry_after(response: httpx.Response, default: float) -> float:
    """Seconds until Meta lets the caller in again: Retry-After, else the business use
    case header's `estimated_time_to_regain_access` (minutes), else the ad account
    header's `reset_time_duration` (seconds), else `default`. X-App-Usage carries only
    percentages of the hourly allowance, no time, so it cannot say."""
    header = response.headers.get("Retry-After", "")
    if header.isdigit():
        return float(header)
    business = _usage_header(response, "X-Business-Use-Case-Usage")
    minutes = [
        _number(entry.get("estimated_time_to_regain_access"))
        for entries in (business.values() if isinstance(business, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    if any(minutes):
        return max(minutes) * 60
    ad_account = _usage_header(response, "X-Ad-Account-Usage")
    if isinstance(ad_account, dict) and _number(ad_account.get("reset_time_duration")) > 0:
        return _number(ad_account["reset_time_duration"])
    return default


def error_for_response(response: httpx.Response, secrets: tuple[str, ...] = ()) -> GraphError:
    """The typed exception for a failed response, from Meta's error envelope."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    message = scrub(str(error.get("message") or f"HTTP {response.status_code}"), secrets)[:500]
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    details = {
        "status": response.status_code,
        "code": code,
        "subcode": subcode,
        "fbtrace_id": str(error.get("fbtrace_id", ""))[:64],
    }
    # Order matters: the closed window (10/2534022, 10/2018278) is a code 10 that is not
    # about permissions.
    if code in OUTSIDE_WINDOW_CODES or (code == 10 and subcode in OUTSIDE_WINDOW_SUBCODES):
        return OutsideWindow(message, **details)
    if code in TOKEN_CODES:
        return TokenInvalid(message, **details)
    if code in PERMISSION_CODES and subcode not in NOT_A_PERMISSION_SUBCODES:
        return PermissionMissing(message, **details)
    if code in POLICY_BLOCK_CODES:
        retry_after = _retry_after(response, POLICY_BLOCK_RETRY_AFTER_SECONDS)
        return PolicyBlocked(message, retry_after=retry_after, **details)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        retry_after = _retry_after(response, DEFAULT_RETRY_AFTER_SECONDS)
        return RateLimited(message, retry_after=retry_after, **details)
    if response.status_code >= 500 or code in {1, 2}:
        return TransientError(message, **details)
    return PermanentError(message, **details)

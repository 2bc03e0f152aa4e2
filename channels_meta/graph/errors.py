"""What Meta's refusals become: typed exceptions whose messages never contain a token."""

from __future__ import annotations

import json
import re

import httpx

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
OUTSIDE_WINDOW_CODES = frozenset({131047})
DEFAULT_RETRY_AFTER_SECONDS = 60.0
# Meta's user, page and system-user tokens, and Instagram Login tokens.
TOKEN_PATTERN = re.compile(r"\b(?:EAA|IGQ|IGA|IG)[A-Za-z0-9_\-]{16,}")


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


class TokenInvalid(GraphError):
    """Code 190: the token expired, was revoked, or the password changed."""


class OutsideWindow(GraphError):
    """The messaging window for this person is closed."""


class RateLimited(GraphError):
    """Too many calls; try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = DEFAULT_RETRY_AFTER_SECONDS, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class PermanentError(GraphError):
    """The request will never succeed as it is (bad parameter, person unavailable, spam)."""


class TransientError(GraphError):
    """Meta failed or could not be reached; the same request may succeed later."""


class UnsafeRequest(PermanentError):
    """Padu refused to send a request: it would have left Meta's hosts or carried an id
    that is not one of Meta's."""


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every known secret and anything shaped like a Meta token removed."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return TOKEN_PATTERN.sub("[redacted]", text)


def _retry_after(response: httpx.Response) -> float:
    header = response.headers.get("Retry-After", "")
    if header.isdigit():
        return float(header)
    # Meta's usage headers give minutes until access is regained.
    for name in ("X-Business-Use-Case-Usage", "X-Ad-Account-Usage"):
        try:
            usage = json.loads(response.headers.get(name, ""))
        except ValueError:
            continue
        minutes = [
            entry.get("estimated_time_to_regain_access", 0)
            for entries in (usage.values() if isinstance(usage, dict) else [])
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict)
        ]
        if any(minutes):
            return float(max(minutes)) * 60
    return DEFAULT_RETRY_AFTER_SECONDS


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
    if code == 190:
        return TokenInvalid(message, **details)
    if code in OUTSIDE_WINDOW_CODES or (code == 10 and subcode in OUTSIDE_WINDOW_SUBCODES):
        return OutsideWindow(message, **details)
    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return RateLimited(message, retry_after=_retry_after(response), **details)
    if response.status_code >= 500 or code in {1, 2}:
        return TransientError(message, **details)
    return PermanentError(message, **details)

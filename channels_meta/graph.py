"""The one way Padu talks to Meta: an httpx client for the Graph API.

It builds versioned URLs, sends the access token in the Authorization header (never in
a URL Padu logs), applies timeouts, follows `paging.next`, and turns Meta's error
envelope into typed exceptions whose messages never contain a token. It sends nothing
anywhere but the configured Meta hosts: paths are checked, and so are absolute URLs
(Meta's `paging.next`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
OUTSIDE_WINDOW_SUBCODES = frozenset({2018278, 2534022})
OUTSIDE_WINDOW_CODES = frozenset({131047})
DEFAULT_RETRY_AFTER_SECONDS = 60.0
# Meta's user, page and system-user tokens, and Instagram Login tokens.
TOKEN_PATTERN = re.compile(r"\b(?:EAA|IGQ|IGA|IG)[A-Za-z0-9_\-]{16,}")
# Meta's node ids (Pages, accounts, phone numbers, users) are decimal numbers.
NODE_ID_PATTERN = re.compile(r"[0-9]{1,32}")
# A relative Graph path: plain segments, nothing that could change the host or the query.
PATH_PATTERN = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*")


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


def node_id(value: object) -> str:
    """`value` as a Graph node id (digits only), or UnsafeRequest. Every id that goes
    into a Graph path passes through here."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not NODE_ID_PATTERN.fullmatch(value):
        raise UnsafeRequest("That is not a Meta id (Meta's ids are digits only).")
    return value


def node(value: object, *edges: str) -> str:
    """The Graph path of a node, or of one of its edges: `node("123", "messages")`."""
    return "/".join([node_id(value), *edges])


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


class GraphClient:
    """A Graph API client. `transport` lets tests and rehearsals put the simulator
    where Meta would be."""

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self.version = settings.META_GRAPH_VERSION
        self.hosts = {
            "facebook": settings.META_GRAPH_URL,
            "instagram": settings.META_INSTAGRAM_GRAPH_URL,
            "instagram_api": settings.META_INSTAGRAM_API_URL,
        }
        timeout = settings.META_HTTP_TIMEOUT_SECONDS
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": "Padu"},
            follow_redirects=False,
        )

    def url(self, path: str, *, host: str = "facebook", versioned: bool = True) -> str:
        """The URL of a relative Graph `path` on one of Meta's hosts."""
        if not PATH_PATTERN.fullmatch(path):
            raise UnsafeRequest("Refused a Graph path that is not plain segments.")
        base = self.hosts[host]
        return f"{base}/{self.version}/{path}" if versioned else f"{base}/{path}"

    def _checked_absolute(self, url: str) -> str:
        """`url` itself when it is on one of the configured Meta hosts (as Meta's
        `paging.next` is), else UnsafeRequest."""
        try:
            parsed = httpx.URL(url)
            allowed = {_origin(httpx.URL(base)) for base in self.hosts.values()}
            on_meta = not parsed.userinfo and _origin(parsed) in allowed
        except (httpx.InvalidURL, TypeError, ValueError):
            on_meta = False
        if not on_meta:
            raise UnsafeRequest("Refused to send a request to a host that is not Meta's.")
        return url

    @sensitive_variables()
    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        token: str | None = None,
        host: str = "facebook",
        versioned: bool = True,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Send one request and return the decoded JSON answer, or raise a GraphError.
        Nothing is sent unless the URL is on one of the configured Meta hosts."""
        url = (
            self.url(path_or_url, host=host, versioned=versioned)
            if isinstance(path_or_url, str) and PATH_PATTERN.fullmatch(path_or_url)
            else self._checked_absolute(path_or_url)
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        known_secrets = (token or "", *secrets)
        try:
            response = self._http.request(
                method, url, params=params, json=json_body, data=form, headers=headers
            )
        except httpx.TimeoutException:
            raise TransientError("Meta did not answer in time.") from None
        except httpx.TransportError as error:
            raise TransientError(
                scrub(f"Could not reach Meta: {type(error).__name__}", known_secrets)
            ) from None
        if response.is_success:
            try:
                body = response.json()
            except ValueError:
                raise TransientError("Meta answered with something that is not JSON.") from None
            return body if isinstance(body, dict) else {"data": body}
        raise error_for_response(response, known_secrets)

    def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self.request("DELETE", path, **kwargs)

    def paginate(self, path: str, *, max_pages: int = 100, **kwargs: Any) -> Iterator[dict]:
        """Every item of a paged edge, following `paging.next` until it is absent."""
        page = self.get(path, **kwargs)
        kwargs.pop("params", None)
        for _ in range(max_pages):
            yield from page.get("data") or []
            next_url = (page.get("paging") or {}).get("next")
            if not next_url:
                return
            page = self.get(next_url, **kwargs)

    def close(self) -> None:
        self._http.close()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    if default_port is None or not url.host:
        raise ValueError("not an http(s) URL with a host")
    return (url.scheme, url.host, url.port or default_port)


@sensitive_variables()
def app_token() -> str:
    """The app access token (`app id|app secret`), for calls Padu makes as the app."""
    return f"{settings.META_APP_ID}|{settings.META_APP_SECRET}"


_shared: dict[str, Any] = {"transport": None, "client": None}


def use_transport(transport: httpx.BaseTransport | None) -> None:
    """Route Padu's Graph calls through `transport` from now on (None: the network).
    Tests and rehearsals use it to put the simulator where Meta would be."""
    if _shared["client"] is not None:
        _shared["client"].close()
    _shared.update(transport=transport, client=None)


def client() -> GraphClient:
    """This process's Graph client (one connection pool, made on first use)."""
    if _shared["client"] is None:
        _shared["client"] = GraphClient(transport=_shared["transport"])
    return _shared["client"]

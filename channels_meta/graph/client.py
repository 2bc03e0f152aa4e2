"""The httpx client under `graph.calls`: the one way Padu's requests reach Meta.

It builds versioned URLs, sends the access token in the Authorization header (never in
a URL Padu logs), applies timeouts, follows `paging.next`, and turns Meta's error
envelope into typed exceptions whose messages never contain a token. It sends nothing
anywhere but the configured Meta hosts: paths are checked, and so are absolute URLs
(Meta's `paging.next`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.errors import TransientError, UnsafeRequest, error_for_response, scrub

# A relative Graph path: plain segments, nothing that could change the host or the query.
PATH_PATTERN = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*")


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

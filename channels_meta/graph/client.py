"""The httpx client under `graph.calls`: the one way Padu's requests reach Meta.

It builds versioned URLs, sends the access token in the Authorization header (never in
a URL Padu logs), sends JSON, forms or multipart uploads (files for Meta to keep),
applies timeouts, follows `paging.next`, and turns Meta's error
envelope into typed exceptions whose messages never contain a token. It sends nothing
anywhere but the configured Meta hosts: paths are checked, and so are absolute URLs
(Meta's `paging.next`); files are downloaded from Meta's media hosts only
(META_MEDIA_HOSTS for attachments, the profile picture hosts for pictures), redirects
included.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.errors import (
    MediaTooLarge,
    PermanentError,
    TransientError,
    UnsafeRequest,
    error_for_response,
    scrub,
)
from channels_meta.graph.hosts import media_url_allowed, origin

# A relative Graph path: plain segments, nothing that could change the host or the query.
PATH_PATTERN = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*")
# Redirects a media download may follow, each to one of Meta's media hosts.
MAX_MEDIA_REDIRECTS = 3
# How much of a refusal's body is read to find Meta's error in it.
ERROR_BODY_BYTES = 64 * 1024
# Headers of a refusal worth keeping once its (decoded) body is read.
ERROR_HEADERS = ("Content-Type", "Retry-After", "X-Business-Use-Case-Usage", "X-Ad-Account-Usage")


@dataclass(frozen=True)
class Downloaded:
    """What a media download wrote: its size, the type Meta's server named (a claim,
    not a fact) and the SHA-256 of the bytes."""

    size: int
    content_type: str
    sha256: str


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
            allowed = {origin(httpx.URL(base)) for base in self.hosts.values()}
            on_meta = not parsed.userinfo and origin(parsed) in allowed
        except (httpx.InvalidURL, TypeError, ValueError):
            on_meta = False
        if not on_meta:
            raise UnsafeRequest("Refused to send a request to a host that is not Meta's.")
        return url

    @staticmethod
    def _checked_media(url: str, allowed: Callable[[str], bool]) -> httpx.URL:
        """`url` when `allowed` says it is on one of Meta's media hosts, else UnsafeRequest."""
        if not allowed(url):
            raise UnsafeRequest("Refused to download from a host that is not one of Meta's.")
        return httpx.URL(url)

    @sensitive_variables()
    def download(
        self,
        url: str,
        *,
        into: BinaryIO,
        max_bytes: int,
        token: str | None = None,
        allowed: Callable[[str], bool] = media_url_allowed,
    ) -> Downloaded:
        """Stream a file from one of Meta's media hosts (those `allowed` admits: by
        default META_MEDIA_HOSTS) into `into`, and say what was written. More than
        `max_bytes` is MediaTooLarge (what was written must be thrown away). The token
        goes only to the host `url` names, never to a redirect's."""
        target = self._checked_media(url, allowed)
        first_host = target.host
        for _ in range(MAX_MEDIA_REDIRECTS + 1):
            send_token = token and target.host == first_host
            headers = {"Authorization": f"Bearer {token}"} if send_token else {}
            try:
                with self._http.stream("GET", target, headers=headers) as response:
                    if not response.is_redirect:
                        return _written(response, into, max_bytes, (token or "",))
                    location = response.headers.get("Location", "")
                    target = self._checked_media(str(response.url.join(location)), allowed)
            except httpx.TimeoutException:
                raise TransientError("Meta did not answer in time.") from None
            except httpx.TransportError as error:
                raise TransientError(
                    scrub(f"Could not reach Meta: {type(error).__name__}", (token or "",))
                ) from None
        raise PermanentError("Meta redirected the download too many times.")

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
        files: dict[str, tuple[str, BinaryIO, str]] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Send one request and return the decoded JSON answer, or raise a GraphError.
        `files` (field: (file name, file, type)) go with `form` as a multipart upload.
        Nothing is sent unless the URL is on one of the configured Meta hosts."""
        if files and json_body is not None:
            raise ValueError("A multipart upload carries a form, not JSON.")
        url = (
            self.url(path_or_url, host=host, versioned=versioned)
            if isinstance(path_or_url, str) and PATH_PATTERN.fullmatch(path_or_url)
            else self._checked_absolute(path_or_url)
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        known_secrets = (token or "", *secrets)
        try:
            response = self._http.request(
                method,
                url,
                params=params,
                json=json_body,
                data=form,
                files=files,
                headers=headers,
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


def _written(
    response: httpx.Response, into: BinaryIO, max_bytes: int, secrets: tuple[str, ...]
) -> Downloaded:
    """Copy a streamed answer into `into`, or raise what Meta's refusal means."""
    if not response.is_success:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= ERROR_BODY_BYTES:
                break
        headers = {
            name: response.headers[name] for name in ERROR_HEADERS if name in response.headers
        }
        refusal = httpx.Response(response.status_code, headers=headers, content=body)
        raise error_for_response(refusal, secrets)
    too_large = MediaTooLarge(
        f"The file is larger than {max_bytes} bytes.", limit=max_bytes, status=response.status_code
    )
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise too_large
    size, digest = 0, hashlib.sha256()
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        digest.update(chunk)
        into.write(chunk)
    return Downloaded(
        size=size,
        content_type=response.headers.get("Content-Type", "")[:200],
        sha256=digest.hexdigest(),
    )


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

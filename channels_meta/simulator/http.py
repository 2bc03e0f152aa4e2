"""Minimal WSGI plumbing for the simulator: requests, responses and Meta's error envelope."""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")


@dataclass(frozen=True)
class FilePart:
    """A file posted in a multipart form (an upload)."""

    filename: str
    content_type: str
    content: bytes = field(repr=False)


def _multipart(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], dict[str, FilePart]]:
    """The fields and files of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, list[str]] = {}
    files: dict[str, FilePart] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields.setdefault(str(name), []).append(content.decode("utf-8", "replace"))
        else:
            files[str(name)] = FilePart(filename, part.get_content_type(), content)
    return fields, files


@dataclass
class Request:
    method: str
    path: str  # without the /vXX.X version prefix
    query: dict[str, str]
    form: dict[str, str]
    json: dict
    headers: dict[str, str]
    base_url: str = ""
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)

    @property
    def token(self) -> str:
        header = self.headers.get("authorization", "")
        if header.lower().startswith(("bearer ", "oauth ")):
            return header.split(" ", 1)[1].strip()
        return self.query.get("access_token") or self.form.get("access_token", "")

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name) or self.form.get(name) or str(self.json.get(name, default))

    @classmethod
    def from_environ(cls, environ: dict) -> Request:
        path = VERSION_PREFIX.sub("", environ.get("PATH_INFO", "/")) or "/"
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        content_type = environ.get("CONTENT_TYPE", "")
        form_lists: dict[str, list[str]] = {}
        files: dict[str, FilePart] = {}
        body: dict = {}
        if "json" in content_type and raw:
            try:
                decoded = json.loads(raw)
                body = decoded if isinstance(decoded, dict) else {}
            except ValueError:
                body = {"__invalid__": True}
        elif content_type.startswith("multipart/form-data") and raw:
            form_lists, files = _multipart(content_type, raw)
        elif raw:
            form_lists = parse_qs(raw.decode("utf-8", "replace"))
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        return cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
            path=path,
            query=query,
            form={k: v[-1] for k, v in form_lists.items()},
            json=body,
            headers=headers,
            form_lists=form_lists,
            files=files,
        )


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, start_response: Callable) -> Iterable[bytes]:
        reason = {
            200: "OK",
            302: "Found",
            400: "Bad Request",
            403: "Forbidden",
            404: "Not Found",
            500: "Internal Server Error",
        }.get(self.status, "Status")
        start_response(
            f"{self.status} {reason}",
            [
                ("Content-Type", self.content_type),
                ("Content-Length", str(len(self.body))),
                *self.headers,
            ],
        )
        return [self.body]


def ok(data: dict | list) -> Response:
    return Response(200, json.dumps(data).encode())


def html(markup: str, status: int = 200) -> Response:
    return Response(status, markup.encode(), content_type="text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", content_type="text/plain", headers=[("Location", location)])


class GraphFault(Exception):
    """Raised by a handler to answer with Meta's error envelope."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        kind: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.status, self.kind = (
            code,
            message,
            subcode,
            status,
            kind,
        )

    def response(self) -> Response:
        error = {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": "A" + secrets.token_hex(10),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return Response(self.status, json.dumps({"error": error}).encode())


def invalid_parameter(message: str) -> GraphFault:
    return GraphFault(100, message, kind="OAuthException")

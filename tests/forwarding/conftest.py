from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from inbox.models import WebhookEndpoint
from inbox.services import forwarding
from inbox.services.endpoints import endpoint_create
from tests.channels_meta.conftest import meta  # noqa: F401  (the simulator)
from tests.inbox.test_media import businesses  # noqa: F401  (its channels)

ALL_EVENTS = [
    "message.created",
    "message.updated",
    "conversation.created",
    "conversation.updated",
    "contact.updated",
]


@dataclass
class Receiver:
    """A business's system receiving events: it keeps each request and answers
    `status` (200 unless told)."""

    status: int = 200
    requests: list[dict] = field(default_factory=list)
    # Called with each event before answering, as a system handling it would.
    handle: Callable[[dict], None] | None = None

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append(
            {
                "body": body,
                "signature": environ.get("HTTP_PADU_SIGNATURE", ""),
                "event_id": environ.get("HTTP_PADU_EVENT_ID", ""),
            }
        )
        if self.handle is not None:
            self.handle(json.loads(body))
        start_response(f"{self.status} X", [("Content-Type", "text/plain")])
        return [b"ok"]

    @property
    def events(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver(settings):
    settings.FORWARDING_ALLOW_PRIVATE_NETWORKS = True
    receiver = Receiver()
    forwarding.use_transport(httpx.WSGITransport(app=receiver))
    yield receiver
    forwarding.use_transport(None)


@dataclass
class Hook:
    endpoint: WebhookEndpoint
    secret: str


@pytest.fixture
def hook(world, receiver) -> Hook:
    endpoint, secret = endpoint_create(
        membership=world.owner, url="https://crm.example/padu", events=ALL_EVENTS
    )
    return Hook(endpoint, secret)

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from channels_meta.graph import client as graph_client
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.webhooks import WebhookSender

# Where the simulator serves customers' media in tests: Padu downloads from it alone.
SIMULATOR_MEDIA_URL = "https://media.simulator.test"
APP_ID = "4242424242"
APP_SECRET = "simulated-app-secret"
INSTAGRAM_APP_ID = "5353535353"
INSTAGRAM_APP_SECRET = "simulated-instagram-app-secret"


@dataclass
class Receiver:
    """A stand-in webhook endpoint: records what Meta posts, fails the first `fail_first`."""

    fail_first: int = 0
    bodies: list[bytes] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    attempts: int = 0

    def __call__(self, environ, start_response):
        self.attempts += 1
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if self.attempts <= self.fail_first:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"down"]
        self.bodies.append(body)
        self.signatures.append(environ.get("HTTP_X_HUB_SIGNATURE_256", ""))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


class Recording(httpx.BaseTransport):
    """The simulator, with a note of every request Padu sends it."""

    def __init__(self, app) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


@dataclass
class Meta:
    sim: MetaSimulator
    state: SimulatorState
    sender: WebhookSender
    receiver: Receiver
    http: httpx.Client

    @property
    def assets(self) -> dict:
        return self.state.describe()

    def customer_writes(self, **body) -> dict:
        return self.http.post("/_sim/message", json=body).json()


@pytest.fixture
def meta(settings) -> Meta:
    """The Meta simulator, in-process, standing where Meta's hosts are."""
    settings.META_APP_ID = APP_ID
    settings.META_APP_SECRET = APP_SECRET
    settings.META_INSTAGRAM_APP_ID = INSTAGRAM_APP_ID
    settings.META_INSTAGRAM_APP_SECRET = INSTAGRAM_APP_SECRET
    settings.META_GRAPH_URL = "https://graph.facebook.com"
    settings.META_INSTAGRAM_GRAPH_URL = "https://graph.instagram.com"
    settings.META_INSTAGRAM_API_URL = "https://api.instagram.com"
    settings.META_MEDIA_HOSTS = ["media.simulator.test"]
    state = SimulatorState(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        instagram_app_id=INSTAGRAM_APP_ID,
        instagram_app_secret=INSTAGRAM_APP_SECRET,
        seed=7,
    )
    state.seed_default()
    receiver = Receiver()
    sender = WebhookSender(
        target_url="https://padu.test/webhooks/meta/",
        app_secret=APP_SECRET,
        instagram_app_secret=INSTAGRAM_APP_SECRET,
        transport=httpx.WSGITransport(app=receiver),
        time_scale=0.001,
    )
    sim = MetaSimulator(state, sender, public_url=SIMULATOR_MEDIA_URL)
    transport = httpx.WSGITransport(app=sim)
    graph_client.use_transport(transport)
    http = httpx.Client(transport=transport, base_url="https://graph.facebook.com")
    yield Meta(sim=sim, state=state, sender=sender, receiver=receiver, http=http)
    graph_client.use_transport(None)


@pytest.fixture
def recording(meta) -> Recording:
    """The simulator where Meta is, noting Padu's requests."""
    transport = Recording(meta.sim)
    graph_client.use_transport(transport)
    return transport

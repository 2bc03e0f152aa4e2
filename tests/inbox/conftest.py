from __future__ import annotations

import pytest

from channels_meta.models import WebhookEvent
from channels_meta.webhooks import processing
from tests.channels_meta.conftest import meta, recording  # noqa: F401  (the simulator)
from tests.channels_meta.delivery import make_channels


@pytest.fixture
def channels(world):
    return make_channels(world.org)


@pytest.fixture
def worker(celery_eager, committed):
    """Webhooks as Padu's worker processes them: in one batch, with what waited for the
    commit (the profile lookups, then the pictures) run at once, unless `lost`."""

    def process(simulator, *, lost: bool = False) -> None:
        simulator.sender.flush_all()
        bodies = simulator.receiver.bodies
        event_ids = [WebhookEvent.objects.create(body=body).pk for body in bodies]
        bodies.clear()
        if lost:
            # What waited for the commit never runs (the test's transaction never commits).
            processing.webhook_events_process(event_ids=event_ids)
            return
        with committed():
            processing.webhook_events_process(event_ids=event_ids)

    return process

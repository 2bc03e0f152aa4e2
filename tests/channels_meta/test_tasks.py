"""Celery tasks that call Meta: slowed down where Meta says, retried when it says."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from channels_meta import tasks
from channels_meta.graph import errors
from channels_meta.graph.calls import templates
from channels_meta.models import ChannelKind
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def retries(monkeypatch) -> list[dict]:
    asked: list[dict] = []

    def retry(**options):
        asked.append(options)
        return Retry("retry", when=options.get("countdown"))

    monkeypatch.setattr(tasks.templates_sync_channel, "retry", retry)
    return asked


def test_a_rate_limited_task_is_retried_when_meta_says_it_may_call_again(
    world, monkeypatch, retries
):
    channel = make_channel(world.org, kind=ChannelKind.WHATSAPP, waba_id="2000001")

    def slow_down(**kwargs):
        raise errors.RateLimited("Calls to this api have exceeded the rate limit.", retry_after=42)

    monkeypatch.setattr(templates, "templates_list", slow_down)

    with pytest.raises(Retry):
        tasks.templates_sync_channel(channel.pk)

    assert [options["countdown"] for options in retries] == [42]
    assert isinstance(retries[0]["exc"], errors.RateLimited)


def test_a_task_that_succeeds_is_not_retried(world, retries):
    assert tasks.templates_sync_channel(123456) == 0
    assert retries == []

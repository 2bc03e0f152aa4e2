"""The channels page costs the same number of queries however many channels it lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from channels_meta.models import ChannelKind, ChannelStatus
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


def _queries(client, url: str) -> tuple[int, str]:
    client.get(url)  # The first visit also records the organisation in the session.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_channels_page_makes_the_same_queries_for_1_or_12_channels(client, world):
    client.force_login(world.owner.user)
    url = reverse("channels", args=[world.org.slug])
    make_channel(world.org, external_id="500", connected_by=world.owner.user)
    few, _page = _queries(client, url)

    for number in range(11):
        make_channel(
            world.org,
            kind=[ChannelKind.WHATSAPP, ChannelKind.MESSENGER, ChannelKind.INSTAGRAM][number % 3],
            external_id=str(600 + number),
            connected_by=world.agent.user,
            status=ChannelStatus.NEEDS_REAUTH if number % 2 else ChannelStatus.ACTIVE,
        )
    many, page = _queries(client, url)

    assert page.count("Disconnect ") == 12
    assert many == few

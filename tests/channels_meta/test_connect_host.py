"""The address Meta's dialog sends the person back to: the browser's host in
development (localhost or 127.0.0.1, whichever was opened), SITE_URL in production."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from channels_meta.models import Channel
from tests.channels_meta.test_connect import through_dialog

pytestmark = pytest.mark.django_db


def dialog_redirect_uri(dialog_url: str) -> str:
    return parse_qs(urlsplit(dialog_url).query)["redirect_uri"][0]


def test_connecting_on_localhost_comes_back_to_localhost(client, world, meta, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    client.force_login(world.owner.user)

    dialog = client.post(
        reverse("channel_connect", args=[world.org.slug, "facebook"]), HTTP_HOST="localhost:8000"
    )["Location"]
    response = client.get(through_dialog(meta, dialog), HTTP_HOST="localhost:8000", follow=True)

    assert dialog_redirect_uri(dialog) == "http://localhost:8000/meta/oauth/callback/"
    assert "Connected:" in response.content.decode()
    assert Channel.objects.for_org(world.org).count() == 3


def test_production_always_comes_back_to_site_url(client, world, meta, settings):
    settings.PRODUCTION = True
    settings.SITE_URL = "https://padu.example.com"
    settings.ALLOWED_HOSTS = ["padu.example.com", "localhost", "testserver"]
    client.force_login(world.owner.user)

    dialog = client.post(
        reverse("channel_connect", args=[world.org.slug, "facebook"]),
        HTTP_HOST="localhost:8000",
        secure=True,
    )["Location"]
    response = client.get(through_dialog(meta, dialog), secure=True, follow=True)

    assert dialog_redirect_uri(dialog) == "https://padu.example.com/meta/oauth/callback/"
    assert "Connected:" in response.content.decode()
    assert Channel.objects.for_org(world.org).count() == 3

"""With DEBUG off (as in production and the demo) people see Padu's own error pages, with
its stylesheet and icon, never Django's."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error


@pytest.mark.django_db
def test_a_missing_page_is_padus_404(client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in page
    assert 'href="/static/css/padu.css"' in page
    assert "Go to the start page" in page
    assert "Page not found at" not in page  # Django's debug page


def test_a_server_error_is_padus_500_even_without_a_request_context(settings):
    settings.DEBUG = False

    response = server_error(RequestFactory().get("/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in page
    assert 'href="/static/css/padu.css"' in page
    assert 'href="/static/favicon.svg"' in page


@pytest.mark.django_db
def test_every_page_names_padus_icon_and_it_is_served(client, settings):
    settings.DEBUG = False

    page = client.get("/").content.decode()
    icon = client.get("/static/favicon.svg")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)

"""The API resolves the member as the web does (a signed-in browser works too), and every
error comes in one shape."""

from __future__ import annotations

import pytest

from accounts.models import Organization
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db

LIST = "/api/v1/o/acme/conversations/"


def test_a_signed_in_member_uses_the_api_with_their_session(client, world):
    client.force_login(world.agent.user)

    assert client.get(LIST).status_code == 200


def test_another_organisations_member_gets_404(client, world):
    client.force_login(world.outsider.user)

    assert client.get(LIST).status_code == 404


def test_a_session_write_needs_the_csrf_token(world):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.owner.user)
    conversation = make_conversation(make_channel(world.org))

    response = browser.post(
        f"/api/v1/o/acme/conversations/{conversation.pk}/status/",
        {"status": "resolved"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_an_unconfirmed_address_is_refused_as_on_the_web(client, world):
    world.agent.user.email_confirmed_at = None
    world.agent.user.save(update_fields=["email_confirmed_at"])
    client.force_login(world.agent.user)

    response = client.get(LIST)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Confirm your e-mail address first.",
        "code": "permission_denied",
        "fields": {},
    }


def test_a_suspended_organisation_answers_403_saying_so(client, world):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    client.force_login(world.owner.user)

    assert client.get(LIST).json()["detail"] == "This organisation is suspended."


def test_managers_only_endpoints_refuse_agents(client, world):
    client.force_login(world.agent.user)
    agent = client.get("/api/v1/o/acme/data-requests/")
    client.force_login(world.owner.user)
    owner = client.get("/api/v1/o/acme/data-requests/")

    assert (agent.status_code, owner.status_code) == (403, 200)


def test_invalid_input_names_each_field(api):
    response = api.get("conversations/", {"status": "lost", "channel": "x"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "Some fields are not valid; see `fields`."
    assert set(body["fields"]) == {"status", "channel"}


def test_a_rule_refusal_is_a_400_with_the_message_the_web_shows(world, api):
    conversation = make_conversation(make_channel(world.org))

    response = api.post(
        f"conversations/{conversation.pk}/status/",
        {"status": "snoozed", "snoozed_until": "2020-01-01T00:00:00Z"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Snooze until a time in the future.",
        "code": "refused",
        "fields": {},
    }


def test_a_body_that_is_not_json_is_a_clear_400(world, api):
    conversation = make_conversation(make_channel(world.org))

    response = api.client.post(
        api.url(f"conversations/{conversation.pk}/status/"),
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.key}",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"

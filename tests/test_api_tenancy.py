"""The API's tenant base view resolves the member as the web does, and a rule's refusal
is a 400 with the rule's message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Organization

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api_probe_urls")]


def _probe(world, name: str = "api_probe") -> str:
    return reverse(name, args=[world.org.slug])


def test_a_member_reaches_their_organisation(client, world):
    client.force_login(world.agent.user)

    response = client.get(_probe(world))

    assert response.status_code == 200
    assert response.json() == {"organization": "acme", "role": "agent"}


def test_another_organisations_member_gets_404(client, world):
    client.force_login(world.outsider.user)

    assert client.get(_probe(world)).status_code == 404
    assert client.post(_probe(world)).status_code == 404


def test_an_anonymous_caller_is_refused_before_the_organisation_is_looked_up(client, world):
    response = client.get(_probe(world))

    assert response.status_code == 403
    assert "credentials were not provided" in response.json()["detail"]


def test_a_suspended_organisation_answers_403_saying_so(client, world):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)
    client.force_login(world.owner.user)

    response = client.get(_probe(world))

    assert response.status_code == 403
    assert response.json() == {"detail": "This organisation is suspended."}


def test_an_unconfirmed_address_is_refused_as_on_the_web(client, world):
    world.agent.user.email_confirmed_at = None
    world.agent.user.save(update_fields=["email_confirmed_at"])
    client.force_login(world.agent.user)

    response = client.get(_probe(world))

    assert response.status_code == 403
    assert response.json() == {"detail": "Confirm your e-mail address first."}


def test_managers_only_views_refuse_agents(client, world):
    client.force_login(world.agent.user)
    agent = client.get(_probe(world, "api_managers_probe")).status_code
    client.force_login(world.owner.user)
    owner = client.get(_probe(world, "api_managers_probe")).status_code

    assert (agent, owner) == (403, 200)


def test_a_rule_refusal_is_a_400_with_the_message_the_web_shows(client, world):
    client.force_login(world.owner.user)

    response = client.post(_probe(world))

    assert response.status_code == 400
    assert response.json() == {"detail": "Only owners can grant or remove the owner role."}

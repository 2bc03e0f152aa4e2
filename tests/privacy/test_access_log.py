"""The access log: each signed-in person's requests written down (who, which
organisation, from where, with what browser, which address without its query or its
secret parts, the answer, when), nobody else's, not the live poll; in the person's own
export; gone after 90 days (tested with retention)."""

from __future__ import annotations

import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse

from privacy.models import AccessLogEntry

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


@pytest.fixture
def agent_client(client, world):
    client.force_login(world.agent.user)
    return client


def test_a_signed_in_request_is_written_down(agent_client, world):
    url = reverse("inbox", args=[world.org.slug])

    agent_client.get(f"{url}?q=private+words", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")

    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.organization, entry.method, entry.path, entry.status) == (
        world.agent.user, world.org, "GET", url, 200,
    )  # fmt: skip
    assert (entry.ip, entry.user_agent) == ("203.0.113.7", BROWSER)


def test_refusals_are_written_down_too_and_anonymous_visits_are_not(client, agent_client, world):
    agent_client.get(reverse("audit_log", args=[world.org.slug]))
    agent_client.get(reverse("inbox", args=[world.other_org.slug]))
    agent_client.logout()
    client.get(reverse("login"))

    assert sorted(AccessLogEntry.objects.values_list("status", "organization")) == [
        (403, world.org.pk),
        (404, None),
    ]


@pytest.mark.parametrize(
    ("route", "written"),
    [
        ("email_confirm", "/account/confirm/<token>/"),
        ("invitation_accept", "/invitations/<token>/"),
    ],
)
def test_secret_parts_of_an_address_are_not_written_down(agent_client, route, written):
    agent_client.get(reverse(route, args=["Zm9vYmFyLXNlY3JldC1saW5r"]))

    assert AccessLogEntry.objects.get().path == written


def test_the_live_poll_is_left_out(agent_client, world):
    response = agent_client.get(reverse("inbox_live", args=[world.org.slug]))

    assert response.status_code == 200
    assert not AccessLogEntry.objects.exists()


def test_a_person_finds_their_access_log_in_their_export(agent_client, world, tmp_path):
    agent_client.get(reverse("profile"), HTTP_USER_AGENT=BROWSER)
    output = tmp_path / "export.zip"

    call_command("export_data", user="agent@acme.example", output=str(output))

    rows = json.loads(zipfile.ZipFile(output).read("access_log.json"))
    assert [(row["path"], row["status"], row["user_agent"]) for row in rows] == [
        ("/account/", 200, BROWSER)
    ]


def test_an_address_nothing_answers_keeps_no_token(agent_client):
    agent_client.get("/invitations/Zm9vYmFyLXNlY3JldC1saW5r")

    assert AccessLogEntry.objects.get().path == "/invitations/<…>"

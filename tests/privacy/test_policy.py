"""The public policy pages, written from the live settings; a new policy version told to
every user once by e-mail and in the app until dismissed; sign-up records the version
accepted; and a crawl of every page, signed out and signed in, finds no cookie but the
session's and the CSRF token's."""

from __future__ import annotations

import re
from collections import deque

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from privacy import tasks
from privacy.services import policy
from tests.accounts.test_sign_up import VALID
from tests.channels_meta.factories import make_channel
from tests.conftest import PASSWORD
from tests.inbox.factories import make_conversation, make_message

pytestmark = pytest.mark.django_db

ESSENTIAL = {"sessionid", "csrftoken"}


@pytest.fixture
def configured(settings):
    settings.PRIVACY_POLICY_VERSION = "2026-11-24"
    settings.PRIVACY_CONTACT_EMAIL = "dpo@padu.example"
    settings.SUB_PROCESSORS = [
        {"name": "Mailjet SAS", "purpose": "Sends e-mail", "location": "France"},
    ]


def test_the_policy_pages_state_the_live_settings(client, configured):
    policy_page = client.get(reverse("privacy_policy")).text
    sub_processors = client.get(reverse("sub_processors")).text
    cookies = client.get(reverse("cookies")).text

    assert "Last updated 24 November 2026" in policy_page
    assert "dpo@padu.example" in policy_page
    assert "The audit log: 90 days; the access log: 90 days." in policy_page
    assert "Meta's raw deliveries: 7 days." in policy_page
    assert "Mailjet SAS" in sub_processors
    assert "France" in sub_processors
    assert "<code>sessionid</code>" in cookies
    assert "<code>csrftoken</code>" in cookies


def test_sign_up_records_the_policy_version_accepted(client, configured):
    client.post(reverse("sign_up"), VALID)

    user = User.objects.get()
    assert user.policy_version_accepted == "2026-11-24"
    assert user.adult_confirmed_at is not None
    assert user.terms_accepted_at is not None


def test_a_new_policy_is_e_mailed_once_to_every_user_and_shown_until_dismissed(
    client, world, settings, configured, celery_eager, committed
):
    User.objects.update(policy_version_emailed="2026-11-24", policy_version_seen="2026-11-24")
    User.objects.filter(pk=world.outsider.user.pk).update(is_active=False)
    client.force_login(world.agent.user)
    assert "Our privacy policy has changed" not in client.get(reverse("profile")).text
    settings.PRIVACY_POLICY_VERSION = "2027-01-15"

    with committed():
        assert tasks.policy_change_announce.apply().get() == 2
        assert policy.policy_change_announce() == 0

    assert sorted(message.to[0] for message in mail.outbox) == [
        "agent@acme.example",
        "owner@acme.example",
    ]
    assert "changed on 2027-01-15" in mail.outbox[0].body
    assert "Our privacy policy has changed" in client.get(reverse("profile")).text
    client.post(reverse("policy_notice_dismiss"), {"next": reverse("profile")})
    assert "Our privacy policy has changed" not in client.get(reverse("profile")).text


def test_the_language_chosen_signed_out_is_kept_in_the_session(client):
    client.get(reverse("login"))
    response = client.post(reverse("language_choose"), {"language": "tr", "next": "/sign-in/"})

    assert response["Location"] == "/sign-in/"
    assert set(client.cookies) <= ESSENTIAL
    assert 'lang="tr"' in client.get(reverse("login")).text
    assert client.post(reverse("language_choose"), {"language": "xx"}).status_code == 302


LINK = re.compile(r'href="(/[^"#]*)"')


def _crawl(client, start: list[str], limit: int = 120) -> tuple[int, set[str]]:
    """Open pages reachable from `start` by links on this site; return how many were
    opened and every cookie any of them set."""
    seen, queue, cookies = set(start), deque(start), set()
    opened = 0
    while queue and opened < limit:
        url = queue.popleft()
        response = client.get(url)
        opened += 1
        cookies |= set(response.cookies)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        for link in LINK.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if link not in seen and not link.startswith(("/static/", "/admin/")):
                seen.add(link)
                queue.append(link)
    return opened, cookies


def test_no_page_sets_a_cookie_beyond_the_session_and_the_csrf_token(client, world):
    channel = make_channel(world.org)
    make_message(make_conversation(channel), text="Hello")
    public = ["/", reverse("login"), reverse("sign_up"), reverse("privacy_request", args=["acme"])]

    opened_signed_out, set_signed_out = _crawl(client, public)
    owner = world.owner.user
    owner.set_password(PASSWORD)
    owner.save()
    signed_in = client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
    opened_signed_in, set_signed_in = _crawl(client, ["/", reverse("profile")])
    saved = client.post(
        reverse("profile"),
        {"full_name": "Owner", "email": owner.email, "language": "", "time_zone": "UTC"},
        follow=True,
    )  # a message shown after the redirect
    assert "Your profile has been saved." in saved.text

    assert opened_signed_out >= 8
    assert opened_signed_in >= 40
    assert set(signed_in.cookies) <= ESSENTIAL
    assert set_signed_out | set_signed_in <= ESSENTIAL
    assert set(client.cookies) <= ESSENTIAL

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def profile_data(user, **changes):
    data = {
        "full_name": user.full_name,
        "email": user.email,
        "language": user.language,
        "time_zone": user.time_zone,
    }
    return {**data, **changes}


def test_a_person_corrects_their_name_language_and_time_zone(client, world):
    user = world.agent.user
    client.force_login(user)

    client.post(
        reverse("profile"),
        profile_data(user, full_name="Zeynep Kaya", language="tr", time_zone="Europe/Istanbul"),
    )

    user.refresh_from_db()
    assert (user.full_name, user.language, user.time_zone) == (
        "Zeynep Kaya",
        "tr",
        "Europe/Istanbul",
    )
    event = AuditEvent.objects.get(action=AuditAction.PROFILE_CHANGED)
    assert event.target == "full_name, language, time_zone"


def test_changing_the_email_needs_the_current_password(client, world):
    user = world.agent.user
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)

    refused = client.post(reverse("profile"), profile_data(user, email="new@acme.example"))
    user.refresh_from_db()
    assert user.email == "agent@acme.example"
    assert "Enter your current password" in refused.content.decode()

    client.post(
        reverse("profile"),
        profile_data(user, email="New@Acme.example", current_password=PASSWORD),
    )
    user.refresh_from_db()
    assert user.email == "new@acme.example"


def test_an_email_used_by_another_account_is_refused(client, world):
    user = world.agent.user
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)

    response = client.post(
        reverse("profile"),
        profile_data(user, email="owner@acme.example", current_password=PASSWORD),
    )

    assert "Another account uses this e-mail address." in response.content.decode()


def test_pages_are_served_in_the_language_chosen_on_the_profile(client, world):
    user = world.agent.user
    user.language = "tr"
    user.save()
    client.force_login(user)

    page = client.get(reverse("members", args=[world.org.slug])).content.decode()

    assert '<html lang="tr"' in page
    assert "Üyeler" in page


def test_times_are_shown_in_the_time_zone_chosen_on_the_profile(client, world):
    user = world.owner.user
    user.time_zone = "Asia/Tehran"
    user.save()
    AuditEvent.objects.create(
        organization=world.org,
        action=AuditAction.SIGNED_IN,
        created_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
    )
    client.force_login(user)

    page = client.get(reverse("audit_log", args=[world.org.slug])).content.decode()

    assert "01/01/2026 3:30 p.m." in page


def test_names_people_wrote_are_marked_for_right_to_left_scripts(client, world):
    world.agent.user.full_name = "مریم رضایی"
    world.agent.user.save()
    client.force_login(world.owner.user)

    page = client.get(reverse("members", args=[world.org.slug])).content.decode()

    assert '<td dir="auto">مریم رضایی' in page


def test_password_change_keeps_the_person_signed_in(client, world):
    user = world.agent.user
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)

    client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )

    user.refresh_from_db()
    assert user.check_password("another long passphrase")
    assert client.get(reverse("profile")).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.PASSWORD_CHANGED).exists()


def test_password_reset_mails_a_link_that_sets_a_new_password(client, world, mailoutbox):
    world.agent.user.set_password(PASSWORD)
    world.agent.user.save()

    client.post(reverse("password_reset"), {"email": "AGENT@acme.example"})

    assert len(mailoutbox) == 1
    link = next(line for line in mailoutbox[0].body.splitlines() if "/password-reset/" in line)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": "brand new passphrase", "new_password2": "brand new passphrase"},
    )

    world.agent.user.refresh_from_db()
    assert world.agent.user.check_password("brand new passphrase")


def test_password_reset_for_an_unknown_address_reveals_nothing(client, db, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_password_resets_for_one_address_are_limited_without_saying_so(
    client, world, mailoutbox, settings
):
    settings.PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = 2
    for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        response = client.post(
            reverse("password_reset"), {"email": "agent@acme.example"}, REMOTE_ADDR=ip
        )

    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 2


def test_password_resets_from_one_ip_are_limited(client, world, mailoutbox, settings):
    settings.PASSWORD_RESETS_PER_IP_PER_HOUR = 2
    for email in ("agent@acme.example", "owner@acme.example", "outsider@other.example"):
        client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR="192.0.2.9")

    assert len(mailoutbox) == 2


def test_changing_the_email_asks_to_confirm_the_new_address(client, world, mailoutbox, committed):
    user = world.agent.user
    user.set_password(PASSWORD)
    user.save()
    client.force_login(user)

    with committed():
        client.post(
            reverse("profile"),
            {
                "full_name": user.full_name,
                "email": "new@acme.example",
                "language": "",
                "time_zone": "UTC",
                "current_password": PASSWORD,
            },
        )

    user.refresh_from_db()
    assert (user.email, user.email_confirmed) == ("new@acme.example", False)
    assert mailoutbox[0].to == ["new@acme.example"]
    assert "/account/confirm/" in mailoutbox[0].body
    assert client.get(reverse("members", args=["acme"])).status_code == 403


def test_the_profile_lists_the_persons_own_sign_ins(client, world):
    AuditEvent.objects.create(actor=world.agent.user, action=AuditAction.SIGNED_IN, ip="192.0.2.44")
    AuditEvent.objects.create(actor=world.owner.user, action=AuditAction.SIGNED_IN, ip="192.0.2.55")
    client.force_login(world.agent.user)

    page = client.get(reverse("profile")).content.decode()

    assert "192.0.2.44" in page
    assert "192.0.2.55" not in page


def test_choosing_a_password_from_a_reset_link_lifts_a_sign_in_lock(
    client, world, mailoutbox, committed
):
    user = world.agent.user
    for attempt in range(6):
        client.post(
            reverse("login"),
            {"username": user.email, "password": "wrong"},
            REMOTE_ADDR=f"203.0.113.{attempt}",
        )
    with committed():
        client.post(reverse("password_reset"), {"email": user.email})
    link = re.search(r"https?://\S+/password-reset/\S+/", mailoutbox[0].body).group(0)
    form_page = client.get(urlsplit(link).path, follow=True)
    client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": "brand new passphrase", "new_password2": "brand new passphrase"},
    )

    response = client.post(
        reverse("login"), {"username": user.email, "password": "brand new passphrase"}
    )

    assert response.status_code == 302

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Organization, Role, User
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Ayşe Yılmaz",
    "email": "Ayse@Example.com",
    "organization_name": "Ayşe's Bakery",
    "password1": "a long enough passphrase",
    "password2": "a long enough passphrase",
    "confirm_adult": "on",
    "accept_terms": "on",
}


def confirmation_link(mailoutbox) -> str:
    return re.search(r"https?://\S+/account/confirm/\S+/", mailoutbox[-1].body).group(0)


def test_sign_up_creates_the_account_and_its_organisation_with_the_person_as_owner(
    client, mailoutbox, committed
):
    with committed():
        response = client.post(reverse("sign_up"), VALID)

    user = User.objects.get()
    membership = Membership.objects.get(user=user)
    assert user.email == "ayse@example.com"
    assert user.full_name == "Ayşe Yılmaz"
    assert user.check_password("a long enough passphrase")
    assert not user.email_confirmed
    assert membership.role == Role.OWNER
    assert membership.organization.name == "Ayşe's Bakery"
    assert membership.organization.created_by == user
    assert response["Location"] == reverse("sign_up_sent")
    assert [message.to for message in mailoutbox] == [["ayse@example.com"]]


def test_the_confirmation_link_confirms_and_signs_in_the_browser_that_signed_up(
    client, mailoutbox, committed
):
    with committed():
        client.post(reverse("sign_up"), VALID)
    path = urlsplit(confirmation_link(mailoutbox)).path

    opened = client.get(path)
    assert not User.objects.get().email_confirmed
    assert "Confirm my address" in opened.content.decode()
    response = client.post(path, follow=True)

    user = User.objects.get()
    assert user.email_confirmed
    assert response.context["user"] == user
    assert response.request["PATH_INFO"] == f"/o/{Membership.objects.get().organization.slug}/"
    assert AuditEvent.objects.filter(action=AuditAction.EMAIL_CONFIRMED, actor=user).exists()


def test_opening_the_link_elsewhere_confirms_only_with_the_accounts_password(
    client, mailoutbox, committed
):
    with committed():
        client.post(reverse("sign_up"), VALID)
    path = urlsplit(confirmation_link(mailoutbox)).path
    elsewhere = Client()

    elsewhere.get(path)
    refused = elsewhere.post(path, {"password": "a guess"})
    assert not User.objects.get().email_confirmed
    assert "That is not the account" in refused.content.decode()
    confirmed = elsewhere.post(path, {"password": VALID["password1"]})

    assert User.objects.get().email_confirmed
    assert confirmed["Location"] == reverse("login")
    assert "_auth_user_id" not in elsewhere.session


def test_the_holder_of_an_address_someone_else_registered_does_not_confirm_it_by_clicking(
    client, mailoutbox, committed
):
    with committed():
        client.post(reverse("sign_up"), VALID)
    path = urlsplit(confirmation_link(mailoutbox)).path
    holder = Client()

    holder.get(path)
    holder.post(path)

    assert not User.objects.get().email_confirmed


def test_a_tampered_or_outdated_confirmation_link_confirms_nothing(client, mailoutbox, committed):
    with committed():
        client.post(reverse("sign_up"), VALID)
    path = urlsplit(confirmation_link(mailoutbox)).path
    user = User.objects.get()
    user.email = "changed@example.com"
    user.save(update_fields=["email"])

    outdated = client.get(path)
    tampered = client.get(path.replace("/confirm/", "/confirm/x"))

    assert (outdated.status_code, tampered.status_code) == (404, 404)
    assert not User.objects.get().email_confirmed


def test_signing_up_with_a_taken_address_answers_the_same_and_tells_its_holder(
    client, mailoutbox, committed
):
    holder = User.objects.create_user(email="ayse@example.com", password="the holder's own")

    with committed():
        response = client.post(reverse("sign_up"), {**VALID, "email": "AYSE@example.com"})

    assert response["Location"] == reverse("sign_up_sent")
    assert User.objects.count() == 1
    assert not Membership.objects.exists()
    holder.refresh_from_db()
    assert holder.check_password("the holder's own")
    assert "already has an account" in mailoutbox[0].body
    assert "/account/confirm/" not in mailoutbox[0].body
    assert "_auth_user_id" not in client.session


def test_an_unconfirmed_account_signs_in_to_its_own_organisation_only(client, world):
    squatter = make_user("boss@acme.example", password=PASSWORD, confirmed=False)
    own = Organization.objects.create(name="Mine", slug="mine", created_by=squatter)
    Membership.objects.create(user=squatter, organization=own, role=Role.OWNER)
    Membership.objects.create(user=squatter, organization=world.org, role=Role.OWNER)
    client.force_login(squatter)

    assert client.get(reverse("organization_home", args=["mine"])).status_code == 200
    refused = client.get(reverse("channels", args=["acme"]))
    assert refused.status_code == 403
    assert "Confirm your e-mail address first" in refused.content.decode()


def test_sign_ups_from_one_address_are_limited(client, settings, mailoutbox, committed):
    settings.SIGN_UPS_PER_IP_PER_HOUR = 2
    with committed():
        for number in range(2):
            client.post(reverse("sign_up"), {**VALID, "email": f"person{number}@example.com"})
        response = client.post(reverse("sign_up"), {**VALID, "email": "third@example.com"})

    assert "Too many sign-ups" in response.content.decode()
    assert not User.objects.filter(email="third@example.com").exists()
    assert len(mailoutbox) == 2


def test_an_organisation_name_with_a_line_break_is_a_form_error(client):
    response = client.post(
        reverse("sign_up"), {**VALID, "organization_name": "Shop\r\nBcc: victim@example.com"}
    )

    assert response.status_code == 200
    assert "without line breaks" in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_records_when_terms_were_accepted_and_adulthood_confirmed(client):
    client.post(reverse("sign_up"), VALID)

    user = User.objects.get()
    assert user.terms_accepted_at is not None
    assert user.adult_confirmed_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.SIGNED_UP, actor=user).exists()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("confirm_adult", "You must be 18 or older to use Padu."),
        ("accept_terms", "Please accept the terms of service and the privacy policy."),
    ],
)
def test_sign_up_without_confirming_age_or_terms_is_refused(client, missing, message):
    data = {key: value for key, value in VALID.items() if key != missing}

    response = client.post(reverse("sign_up"), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_rejects_a_weak_or_mismatched_password(client):
    weak = client.post(reverse("sign_up"), {**VALID, "password1": "123", "password2": "123"})
    mismatched = client.post(reverse("sign_up"), {**VALID, "password2": "something else"})

    assert "too short" in weak.content.decode()
    assert "didn’t match" in mismatched.content.decode()
    assert not User.objects.exists()


def test_two_organisations_with_the_same_name_get_different_addresses(client):
    client.post(reverse("sign_up"), VALID)
    client.logout()
    client.post(reverse("sign_up"), {**VALID, "email": "other@example.com"})

    slugs = set(Membership.objects.values_list("organization__slug", flat=True))
    assert len(slugs) == 2

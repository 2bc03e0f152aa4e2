from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Role, User

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


def test_sign_up_creates_the_account_and_its_organisation_with_the_person_as_owner(client):
    response = client.post(reverse("sign_up"), VALID)

    user = User.objects.get()
    membership = Membership.objects.get(user=user)
    assert user.email == "ayse@example.com"
    assert user.full_name == "Ayşe Yılmaz"
    assert user.check_password("a long enough passphrase")
    assert membership.role == Role.OWNER
    assert membership.organization.name == "Ayşe's Bakery"
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).context["user"] == user


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


def test_sign_up_with_a_taken_address_is_refused_whatever_its_case(client):
    User.objects.create_user(email="ayse@example.com")

    response = client.post(reverse("sign_up"), {**VALID, "email": "AYSE@example.com"})

    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


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

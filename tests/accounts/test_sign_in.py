from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Membership, Role
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"


def sign_in(client, email, password, ip="198.51.100.7"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_signing_in_with_the_right_password_opens_the_organisation(client, world):
    world.owner.user.set_password(PASSWORD)
    world.owner.user.save()

    response = sign_in(client, "OWNER@acme.example", PASSWORD)

    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/o/acme/"
    event = AuditEvent.objects.get(action=AuditAction.SIGNED_IN)
    assert (event.organization, event.actor, event.ip) == (None, world.owner.user, "198.51.100.7")


def test_a_sign_in_shows_in_no_organisations_audit_log(client, world):
    Membership.objects.create(user=world.outsider.user, organization=world.org, role=Role.OWNER)
    world.outsider.user.set_password(PASSWORD)
    world.outsider.user.save()

    sign_in(client, "outsider@other.example", PASSWORD, ip="198.51.100.23")

    for slug in ("acme", "other"):
        assert "198.51.100.23" not in client.get(reverse("audit_log", args=[slug])).content.decode()
    assert "198.51.100.23" in client.get(reverse("profile")).content.decode()


def test_passwords_are_hashed_with_bcrypt_sha256(db):
    user = make_user("someone@example.com", password=PASSWORD)

    assert user.password.startswith("bcrypt_sha256$")


def test_an_old_pbkdf2_hash_is_upgraded_to_bcrypt_on_sign_in(client, db):
    user = make_user("old@example.com")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()

    sign_in(client, "old@example.com", PASSWORD)

    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$")


def test_five_failures_for_one_address_lock_it_even_with_the_right_password(client, db):
    make_user("target@example.com", password=PASSWORD)
    for attempt in range(5):
        response = sign_in(client, "target@example.com", "wrong", ip=f"203.0.113.{attempt}")
    assert LOCKED in response.content.decode()

    response = sign_in(client, "target@example.com", PASSWORD, ip="203.0.113.99")

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN_LOCKED).count() == 1


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, db):
    make_user("target@example.com", password=PASSWORD)
    for _ in range(4):
        sign_in(client, "target@example.com", "wrong")
    assert sign_in(client, "target@example.com", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "target@example.com", "wrong", ip="192.0.2.1")

    assert sign_in(client, "target@example.com", PASSWORD, ip="192.0.2.2").status_code == 302


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(client, db):
    make_user("innocent@example.com", password=PASSWORD)
    for number in range(20):
        sign_in(client, f"guess{number}@example.com", "wrong", ip="203.0.113.50")

    locked = sign_in(client, "innocent@example.com", PASSWORD, ip="203.0.113.50")
    elsewhere = sign_in(client, "innocent@example.com", PASSWORD, ip="203.0.113.51")

    assert LOCKED in locked.content.decode()
    assert elsewhere.status_code == 302


def test_the_lock_ends_when_the_lockout_period_is_over(client, db, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    make_user("target@example.com", password=PASSWORD)
    for _ in range(5):
        sign_in(client, "target@example.com", "wrong")
    assert LOCKED in sign_in(client, "target@example.com", PASSWORD).content.decode()

    time.sleep(1.1)

    assert sign_in(client, "target@example.com", PASSWORD).status_code == 302


def test_the_lock_is_shared_through_redis(settings):
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


def test_signing_out_needs_a_post(client, world):
    client.force_login(world.owner.user)

    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("spelling", ["a-admın@acme.example", "A-ADMIN@acme.example"])
def test_a_look_alike_or_differently_cased_address_gets_no_fresh_budget(client, db, spelling):
    make_user("a-admin@acme.example", password=PASSWORD)
    for attempt in range(5):
        sign_in(client, "a-admin@acme.example", "wrong", ip=f"203.0.113.{attempt}")

    response = sign_in(client, spelling, PASSWORD, ip="203.0.113.77")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_dotless_i_address_does_not_sign_in_to_the_dotted_account(client, db):
    make_user("a-admin@acme.example", password=PASSWORD)

    response = sign_in(client, "a-admın@acme.example", PASSWORD)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_attempts_check_no_more_passwords_than_the_budget(monkeypatch):
    user = make_user("target@example.com", password=PASSWORD)
    checked = []
    check_password = type(user).check_password

    def counting_check_password(self, raw_password):
        checked.append(raw_password)
        return check_password(self, raw_password)

    monkeypatch.setattr(type(user), "check_password", counting_check_password)
    start = threading.Barrier(16)

    def attempt(number: int) -> None:
        start.wait()
        try:
            sign_in(Client(), "target@example.com", f"wrong-{number}", ip=f"198.51.100.{number}")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(checked) == 5

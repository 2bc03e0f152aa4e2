from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization, Role, User

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_create_organization_creates_the_owner_and_prints_the_slug():
    slug = run(
        "create_organization",
        "Kahve Dünyası",
        "--owner",
        "Boss@Example.com",
        "--password",
        "a long enough passphrase",
    )

    organization = Organization.objects.get(slug=slug)
    owner = User.objects.get(email="boss@example.com")
    assert organization.name == "Kahve Dünyası"
    assert Membership.objects.get(organization=organization, user=owner).role == Role.OWNER
    assert owner.check_password("a long enough passphrase")


def test_create_organization_without_a_password_leaves_a_reset_to_the_owner():
    run("create_organization", "Shop", "--owner", "boss@example.com")

    assert not User.objects.get().has_usable_password()


def test_create_member_adds_a_person_with_a_role(world):
    output = run("create_member", "acme", "new@acme.example", "--role", "admin")

    membership = Membership.objects.get(user__email="new@acme.example")
    assert (membership.organization, membership.role) == (world.org, Role.ADMIN)
    assert output == "new@acme.example is admin in acme."


def test_create_member_will_not_demote_the_last_owner(world):
    with pytest.raises(CommandError, match="at least one owner"):
        run("create_member", "acme", "owner@acme.example", "--role", "agent")


def test_create_member_with_an_unknown_organisation_says_so(db):
    with pytest.raises(CommandError, match="No organisation has the slug 'nope'"):
        run("create_member", "nope", "someone@example.com")


def test_an_invalid_owner_address_is_refused(db):
    with pytest.raises(CommandError, match="not a valid e-mail address"):
        run("create_organization", "Shop", "--owner", "not-an-address")
    assert not Organization.objects.exists()


def test_the_demo_seed_is_idempotent_and_prints_the_login(db):
    first = run("demo", "--seed-only")
    second = run("demo", "--seed-only")

    assert "owner@demo.padu.example" in first
    assert first == second
    assert Organization.objects.count() == 1

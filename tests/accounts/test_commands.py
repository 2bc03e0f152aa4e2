from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Invitation, Membership, Organization, Role, User
from tests.conftest import make_user

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


def test_a_new_owner_without_a_password_is_mailed_a_link_that_works(
    client, db, mailoutbox, committed
):
    with committed():
        run("create_organization", "Shop", "--owner", "boss@example.com")
    owner = User.objects.get()
    assert not owner.has_usable_password()

    link = re.search(r"https?://\S+/password-reset/\S+/", mailoutbox[0].body).group(0)
    form_page = client.get(urlsplit(link).path, follow=True)
    client.post(
        form_page.request["PATH_INFO"],
        {"new_password1": "a long enough passphrase", "new_password2": "a long enough passphrase"},
    )

    owner.refresh_from_db()
    assert owner.check_password("a long enough passphrase")
    assert owner.email_confirmed


def test_an_unconfirmed_account_is_invited_not_made_owner(db, mailoutbox, committed):
    squatter = make_user("boss@example.com", password="squatter's password", confirmed=False)

    with committed():
        slug = run("create_organization", "Shop", "--owner", "BOSS@example.com")

    organization = Organization.objects.get(slug=slug)
    assert not Membership.objects.filter(organization=organization).exists()
    invitation = Invitation.objects.get(organization=organization)
    assert (invitation.email, invitation.role) == ("boss@example.com", Role.OWNER)
    assert mailoutbox[0].to == ["boss@example.com"]
    squatter.refresh_from_db()
    assert squatter.check_password("squatter's password")


def test_create_member_invites_an_unconfirmed_account(world, mailoutbox):
    make_user("late@acme.example", confirmed=False)

    output = run("create_member", "acme", "late@acme.example", "--role", "admin")

    assert "invited" in output
    assert not Membership.objects.filter(user__email="late@acme.example").exists()
    assert Invitation.objects.get(organization=world.org).email == "late@acme.example"


def test_an_existing_accounts_password_is_never_changed_by_a_command(world):
    world.agent.user.set_password("the agent's own")
    world.agent.user.save()

    run("create_member", "acme", "agent@acme.example", "--role", "admin", "--password", "x" * 20)

    world.agent.user.refresh_from_db()
    assert world.agent.user.check_password("the agent's own")


def test_create_member_adds_a_person_with_a_role(world):
    output = run("create_member", "acme", "new@acme.example", "--role", "admin")

    membership = Membership.objects.get(user__email="new@acme.example")
    assert (membership.organization, membership.role) == (world.org, Role.ADMIN)
    assert output == "new@acme.example is admin in acme; a link to choose a password was e-mailed."


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

"""Two-factor authentication: setting it up, signing in with a code or a recovery code,
turning it off; the platform administration and organisations that require it."""

from __future__ import annotations

import re
from base64 import b32encode
from datetime import timedelta

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditAction, AuditEvent, Membership, Role, User
from accounts.two_factor import services
from tests.conftest import PASSWORD, make_user
from tests.otp import next_code, sign_in_staff

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"
WRONG = "That code is not right."


def turn_on(user: User) -> tuple[TOTPDevice, list[str]]:
    device = services.totp_device_prepare(user=user)
    codes = services.two_factor_enable(user=user, device=device, code=next_code(device))
    return device, codes


def sign_in(client, email, password=PASSWORD, **data):
    return client.post(
        reverse("login"), {"username": email, "password": password, **data}, REMOTE_ADDR=IP
    )


def enter_code(client, code, *, follow=False):
    return client.post(reverse("sign_in_code"), {"code": code}, REMOTE_ADDR=IP, follow=follow)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def sign_ins(user: User) -> int:
    return AuditEvent.objects.filter(action=AuditAction.SIGNED_IN, actor=user).count()


@pytest.fixture
def person(db) -> User:
    return make_user("ayse@example.com", password=PASSWORD)


@pytest.fixture
def protected(person) -> tuple[TOTPDevice, list[str]]:
    """`person` with two-factor authentication on: their app and recovery codes."""
    return turn_on(person)


# Setting it up


def test_setting_up_shows_a_qr_code_and_the_key_and_needs_a_code_to_turn_on(client, person):
    client.force_login(person)

    page = client.get(reverse("two_factor_set_up")).content.decode()

    device = TOTPDevice.objects.get(user=person)
    assert not device.confirmed
    assert "<svg" in page
    assert "style=" not in page
    assert "<script" not in page
    key = re.search(r'id="secret-key">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert key == b32encode(device.bin_key).decode()
    assert client.post(reverse("two_factor_set_up"), {"code": "000000"}).status_code == 200
    device.refresh_from_db()
    assert not device.confirmed

    device.throttling_failure_timestamp -= timedelta(seconds=5)
    device.save()
    page = client.post(reverse("two_factor_set_up"), {"code": next_code(device)})

    device.refresh_from_db()
    assert device.confirmed
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=person).values_list("token", flat=True)
    )
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    event = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_ENABLED)
    assert (event.organization, event.actor) == (None, person)


def test_the_key_is_never_shown_again_once_set_up(client, person, protected):
    device, _codes = protected
    client.force_login(person)
    key = b32encode(device.bin_key).decode()

    assert client.get(reverse("two_factor_set_up"))["Location"] == reverse("two_factor")
    page = client.get(reverse("two_factor")).content.decode()
    assert key[:8] not in page.replace(" ", "")
    assert "10 unused recovery codes" in page


def test_the_profile_links_to_two_factor_authentication(client, person):
    client.force_login(person)

    assert reverse("two_factor") in client.get(reverse("profile")).content.decode()


def test_the_two_factor_pages_need_a_signed_in_person(client, db):
    for name in ("two_factor", "two_factor_set_up"):
        assert client.get(reverse(name))["Location"].startswith(reverse("login"))
    for name in ("two_factor_recovery_codes", "two_factor_disable"):
        assert client.post(reverse(name))["Location"].startswith(reverse("login"))


# Signing in


def test_signing_in_asks_for_a_code_and_opens_nothing_before_it(client, world, protected):
    device, _codes = protected
    Membership.objects.create(user=device.user, organization=world.org, role=Role.OWNER)

    response = sign_in(client, "ayse@example.com")

    assert response["Location"] == reverse("sign_in_code")
    assert not signed_in(client)
    assert sign_ins(device.user) == 0
    for url in ("/", reverse("organization_home", args=["acme"]), reverse("profile")):
        assert client.get(url, follow=True).request["PATH_INFO"] in ("/", reverse("login"))
        assert not signed_in(client)
    assert "/admin/" not in client.get("/admin/", follow=True).request["PATH_INFO"]

    response = enter_code(client, next_code(device))

    assert response["Location"] == reverse("home")
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("organization_home", args=["acme"])).status_code == 200
    assert sign_ins(device.user) == 1
    assert AuditEvent.objects.get(action=AuditAction.SIGNED_IN).ip == IP


def test_the_page_asked_for_opens_after_the_code(client, protected):
    device, _codes = protected

    sign_in(client, "ayse@example.com", next="/account/")
    response = enter_code(client, next_code(device))

    assert response["Location"] == "/account/"


def test_a_page_elsewhere_is_not_opened_after_the_code(client, protected):
    device, _codes = protected

    sign_in(client, "ayse@example.com", next="https://evil.example/")
    response = enter_code(client, next_code(device))

    assert response["Location"] == reverse("home")


def test_people_without_two_factor_sign_in_with_their_password_alone(client, person):
    response = sign_in(client, "ayse@example.com")

    assert response.status_code == 302
    assert signed_in(client)
    assert sign_ins(person) == 1


def test_a_wrong_code_is_refused_and_the_app_then_waits_before_the_next(client, protected):
    device, _codes = protected
    sign_in(client, "ayse@example.com")

    refused = enter_code(client, "000000")
    too_soon = enter_code(client, next_code(device))

    assert WRONG in refused.content.decode()
    assert "Too many wrong codes. Wait 1 second and try again." in too_soon.content.decode()
    assert not signed_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttling_failure_timestamp -= timedelta(seconds=2)
    device.save()

    assert enter_code(client, next_code(device)).status_code == 302
    assert signed_in(client)


def test_a_code_is_not_accepted_twice(client, protected):
    device, _codes = protected
    code = next_code(device)
    sign_in(client, "ayse@example.com")
    enter_code(client, code)
    client.post(reverse("logout"))

    sign_in(client, "ayse@example.com")
    response = enter_code(client, code)

    assert WRONG in response.content.decode()
    assert not signed_in(client)


def test_five_wrong_codes_send_the_person_back_to_the_password(client, protected, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    device, _codes = protected
    sign_in(client, "ayse@example.com")

    for _ in range(4):
        assert WRONG in enter_code(client, "000000").content.decode()
    response = enter_code(client, "000000")

    assert response["Location"] == reverse("login")
    assert client.get(reverse("sign_in_code"))["Location"] == reverse("login")
    assert enter_code(client, next_code(device))["Location"] == reverse("login")
    assert not signed_in(client)
    stopped = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_SIGN_IN_STOPPED)
    assert (stopped.actor, stopped.organization, stopped.ip) == (device.user, None, IP)


def test_the_code_step_expires_after_five_minutes(client, protected, settings):
    device, _codes = protected
    settings.TWO_FACTOR_PENDING_SECONDS = -1
    sign_in(client, "ayse@example.com")

    response = enter_code(client, next_code(device))

    assert response["Location"] == reverse("login")
    assert not signed_in(client)


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(client, db):
    assert client.get(reverse("sign_in_code"))["Location"] == reverse("login")
    assert enter_code(client, "123456")["Location"] == reverse("login")


def test_a_recovery_code_works_once(client, protected):
    _device, codes = protected
    sign_in(client, "ayse@example.com")

    response = enter_code(client, codes[0].upper(), follow=True)

    assert signed_in(client)
    assert "You used a recovery code; 9 are left." in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.RECOVERY_CODE_USED).count() == 1
    client.post(reverse("logout"))
    sign_in(client, "ayse@example.com")
    assert WRONG in enter_code(client, codes[0]).content.decode()
    assert not signed_in(client)


def test_new_recovery_codes_replace_the_old_ones(client, person, protected):
    device, old_codes = protected
    client.force_login(person)

    page = client.post(reverse("two_factor_recovery_codes"), {"code": next_code(device)})

    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    with pytest.raises(services.WrongCodeError):
        services.two_factor_verify(user=person, code=old_codes[1])
    assert AuditEvent.objects.filter(action=AuditAction.RECOVERY_CODES_REPLACED).count() == 1


def test_new_recovery_codes_need_a_code(client, person, protected):
    _device, old_codes = protected
    client.force_login(person)

    page = client.post(reverse("two_factor_recovery_codes"), {"code": "000000"}).content.decode()

    assert WRONG in page
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(old_codes)


# Turning it off


def test_turning_off_needs_the_password_and_a_code(client, person, protected):
    device, _codes = protected
    client.force_login(person)
    url = reverse("two_factor_disable")

    wrong_password = client.post(url, {"password": "not it", "code": next_code(device)})
    wrong_code = client.post(url, {"password": PASSWORD, "code": "000000"})

    assert "That password is not right." in wrong_password.content.decode()
    assert WRONG in wrong_code.content.decode()
    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    device.refresh_from_db()
    device.throttling_failure_timestamp -= timedelta(seconds=5)
    device.save()

    response = client.post(url, {"password": PASSWORD, "code": next_code(device)})

    assert response["Location"] == reverse("two_factor")
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticToken.objects.filter(device__user=person).exists()
    event = AuditEvent.objects.get(action=AuditAction.TWO_FACTOR_DISABLED)
    assert (event.actor, event.organization) == (person, None)
    client.post(reverse("logout"))
    assert sign_in(client, "ayse@example.com")["Location"] == reverse("home")


# Platform staff


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser(email="staff@padu.example", password=PASSWORD)


def test_staff_without_a_second_factor_are_sent_to_set_one_up(client, staff):
    client.force_login(staff)

    response = client.get(reverse("admin:index"), follow=True)

    assert response.request["PATH_INFO"] == reverse("two_factor_set_up")
    assert "The platform administration needs a second factor." in response.content.decode()


def test_staff_signed_in_without_their_code_are_asked_for_it(client, staff):
    device, _codes = turn_on(staff)
    client.force_login(staff)

    url = reverse("admin:accounts_organization_changelist")

    code_step = client.get(url, follow=True).redirect_chain[-1][0]
    response = client.post(code_step, {"code": next_code(device)})

    assert code_step.startswith(reverse("sign_in_code"))
    assert response["Location"] == url
    assert client.get(url).status_code == 200


def test_posting_a_password_to_the_admin_login_signs_no_one_in(client, staff):
    response = client.post(
        reverse("admin:login"),
        {"username": "staff@padu.example", "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert not signed_in(client)
    assert sign_ins(staff) == 0
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))


def test_staff_sign_in_through_padus_page_with_a_code_and_are_audited(client, staff):
    device, _codes = turn_on(staff)

    login_page = client.get(reverse("admin:index"), follow=True)
    assert login_page.request["PATH_INFO"] == reverse("login")
    sign_in(client, "staff@padu.example", next=login_page.context["next"])
    response = enter_code(client, next_code(device))

    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.SIGNED_IN)
    assert (event.actor, event.ip) == (staff, IP)


def test_members_who_are_not_staff_are_refused_by_the_admin_login(client, world):
    client.force_login(world.owner.user)

    assert client.get(reverse("admin:login")).status_code == 403


def test_the_admin_shows_neither_the_key_nor_the_recovery_codes(client, person, protected):
    device, codes = protected
    sign_in_staff(client)

    totp_page = client.get(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    ).content.decode()
    static_page = client.get(
        reverse(
            "admin:otp_static_staticdevice_change", args=[device.user.staticdevice_set.get().pk]
        )
    ).content.decode()

    assert device.key not in totp_page
    assert not any(code in static_page for code in codes)


# Organisations that require it


def test_an_organisation_requiring_it_sends_a_member_without_it_to_set_up(client, world):
    world.org.require_two_factor = True
    world.org.save()
    client.force_login(world.agent.user)

    response = client.get(reverse("members", args=["acme"]), follow=True)

    assert response.request["PATH_INFO"] == reverse("two_factor_set_up")
    assert "Acme Coffee requires two-factor authentication." in response.content.decode()
    assert client.get(reverse("organization_home", args=["other"])).status_code == 404


def test_a_member_with_it_on_enters_a_code_and_then_comes_in(client, world):
    world.org.require_two_factor = True
    world.org.save()
    device, _codes = turn_on(world.agent.user)
    client.force_login(world.agent.user)
    url = reverse("members", args=["acme"])

    code_step = client.get(url)
    assert code_step["Location"] == f"{reverse('sign_in_code')}?next=%2Fo%2Facme%2Fmembers%2F"
    response = client.post(code_step["Location"], {"code": next_code(device), "next": url})

    assert response["Location"] == url
    assert client.get(url).status_code == 200
    assert sign_ins(world.agent.user) == 0


def test_setting_it_up_for_an_organisation_leads_back_to_it(client, world):
    world.org.require_two_factor = True
    world.org.save()
    client.force_login(world.agent.user)
    set_up = client.get(reverse("organization_home", args=["acme"]))["Location"]
    client.get(set_up)
    device = TOTPDevice.objects.get(user=world.agent.user)

    page = client.post(set_up, {"code": next_code(device), "next": "/o/acme/"}).content.decode()

    assert 'href="/o/acme/"' in page
    assert client.get("/o/acme/").status_code == 200


def test_the_owner_cannot_require_it_without_having_it(client, world):
    client.force_login(world.owner.user)
    url = reverse("organization_two_factor", args=["acme"])

    response = client.post(url, {"require_two_factor": "on"}, follow=True)

    assert "Turn on two-factor authentication for your own account first" in (
        response.content.decode()
    )
    world.org.refresh_from_db()
    assert not world.org.require_two_factor


def test_an_owner_with_it_requires_it_of_everyone_and_it_is_audited(client, world):
    device, _codes = turn_on(world.owner.user)
    client.force_login(world.owner.user)
    enter_code(client, next_code(device))
    url = reverse("organization_two_factor", args=["acme"])

    response = client.post(url, {"require_two_factor": "on"}, follow=True)

    assert "Every member now needs two-factor authentication." in response.content.decode()
    world.org.refresh_from_db()
    assert world.org.require_two_factor
    event = AuditEvent.objects.get(action=AuditAction.ORGANIZATION_TWO_FACTOR_REQUIRED)
    assert (event.organization, event.actor) == (world.org, world.owner.user)
    client.post(url, {})
    world.org.refresh_from_db()
    assert not world.org.require_two_factor
    assert AuditEvent.objects.filter(action=AuditAction.ORGANIZATION_TWO_FACTOR_OPTIONAL).exists()


def test_admins_and_agents_cannot_change_the_requirement(client, world):
    admin = Membership.objects.create(
        user=make_user("admin@acme.example"), organization=world.org, role=Role.ADMIN
    )
    turn_on(admin.user)
    url = reverse("organization_two_factor", args=["acme"])
    for membership in (admin, world.agent):
        client.force_login(membership.user)
        assert client.post(url, {"require_two_factor": "on"}).status_code == 403
    world.org.refresh_from_db()
    assert not world.org.require_two_factor


def test_another_organisations_owner_gets_404_for_the_requirement(client, world):
    turn_on(world.outsider.user)
    client.force_login(world.outsider.user)

    response = client.post(
        reverse("organization_two_factor", args=["acme"]), {"require_two_factor": "on"}
    )

    assert response.status_code == 404
    world.org.refresh_from_db()
    assert not world.org.require_two_factor


def test_the_person_is_told_by_email_when_two_factor_is_turned_on(
    client, person, mailoutbox, committed
):
    client.force_login(person)
    client.get(reverse("two_factor_set_up"))
    device = TOTPDevice.objects.get(user=person)

    with committed():
        client.post(reverse("two_factor_set_up"), {"code": next_code(device)})

    assert [message.to for message in mailoutbox] == [[person.email]]
    assert "Two-factor authentication is on" in mailoutbox[0].subject

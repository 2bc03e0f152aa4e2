"""Every change to a person's second factors and to an organisation's requirement of them.

Codes are always compared by django-otp's devices: they refuse a TOTP code used before
and wait longer after each wrong code (1, 2, 4, 8… seconds), and a recovery code is
deleted when it is used.
"""

from __future__ import annotations

import math
import re

import django_otp
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.errors import RuleError
from accounts.models import AuditAction, Membership, Organization, User
from accounts.services import audit_record
from accounts.two_factor import selectors

TOTP_CODE = re.compile(r"\d{6}")


class TwoFactorError(RuleError):
    """A refused code or change."""


class WrongCodeError(TwoFactorError):
    pass


class CodeThrottledError(TwoFactorError):
    """Wrong codes came too fast: the device checks no code until its wait is over."""


def _normalized(code: str) -> str:
    # Recovery codes get copied with spaces or hyphens, and typed in capitals.
    return re.sub(r"[\s-]", "", code).lower()


def _check_allowed(device: Device) -> None:
    allowed, details = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (details or {}).get("locked_until")
    wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
    seconds = max(1, math.ceil(wait))
    raise CodeThrottledError(
        ngettext(
            "Too many wrong codes. Wait %(seconds)d second and try again.",
            "Too many wrong codes. Wait %(seconds)d seconds and try again.",
            seconds,
        )
        % {"seconds": seconds}
    )


def _verify(user: User, device: Device | None, code: str) -> Device:
    if device is None:
        raise WrongCodeError(_("That code is not right."))
    _check_allowed(device)
    verified = django_otp.verify_token(user, device.persistent_id, code)
    if verified is None:
        raise WrongCodeError(_("That code is not right."))
    return verified


def two_factor_verify(*, user: User, code: str, ip: str | None = None) -> Device:
    """The device that accepts `code`: six digits are checked against the authenticator
    app, anything else against the recovery codes (a recovery code works once).
    Raises WrongCodeError or CodeThrottledError."""
    code = _normalized(code)
    if TOTP_CODE.fullmatch(code):
        return _verify(user, selectors.confirmed_totp_device(user), code)
    device = _verify(user, selectors.recovery_device(user), code)
    audit_record(action=AuditAction.RECOVERY_CODE_USED, actor=user, target=user.email, ip=ip)
    return device


def totp_device_prepare(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: an unconfirmed device with a fresh secret,
    kept until it is confirmed, so reloading the page does not change the secret."""
    device = selectors.unconfirmed_totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _recovery_codes_create(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes")
    codes: set[str] = set()
    while len(codes) < settings.TWO_FACTOR_RECOVERY_CODES:
        codes.add(StaticToken.random_token())
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return sorted(codes)


def _tell_the_person(user: User, subject: str, message: str) -> None:
    """E-mail the account's holder about a change to their second factors, once the
    change is committed: whoever made it without them learns it at once."""
    transaction.on_commit(lambda: send_mail(subject, message, None, [user.email]))


# The services below check the code before their transaction: a wrong code's count
# towards the device's wait must stay recorded when the change is refused.


def two_factor_enable(
    *, user: User, device: TOTPDevice, code: str, ip: str | None = None
) -> list[str]:
    """Confirm the authenticator app with a current code from it, and return a new set
    of recovery codes (shown to the person once; replacing any older set)."""
    if device.user_id != user.pk or device.confirmed:
        raise TwoFactorError(_("Start the set-up again."))
    _verify(user, device, _normalized(code))
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _recovery_codes_create(user)
        audit_record(action=AuditAction.TWO_FACTOR_ENABLED, actor=user, target=user.email, ip=ip)
        _tell_the_person(
            user,
            _("Two-factor authentication is on for your Padu account"),
            _(
                "An authenticator app was just set up for your Padu account; signing in now "
                "needs a code from it. If this was not you, choose a new password with "
                "“Forgot your password?” on the sign-in page and ask the people who run "
                "Padu to remove the authenticator."
            ),
        )
    return codes


def recovery_codes_replace(*, user: User, code: str, ip: str | None = None) -> list[str]:
    """A new set of recovery codes for a person who proves a second factor now; the
    old set stops working."""
    if not selectors.user_has_two_factor(user):
        raise TwoFactorError(_("Two-factor authentication is off."))
    two_factor_verify(user=user, code=code, ip=ip)
    with transaction.atomic():
        codes = _recovery_codes_create(user)
        audit_record(
            action=AuditAction.RECOVERY_CODES_REPLACED, actor=user, target=user.email, ip=ip
        )
    return codes


def two_factor_disable(*, user: User, password: str, code: str, ip: str | None = None) -> None:
    """Turn two-factor authentication off, for a person who gives their password and a
    code. The code is checked first: without one, the password cannot be guessed here."""
    if not selectors.user_has_two_factor(user):
        raise TwoFactorError(_("Two-factor authentication is off."))
    two_factor_verify(user=user, code=code, ip=ip)
    if not user.check_password(password):
        raise TwoFactorError(_("That password is not right."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(action=AuditAction.TWO_FACTOR_DISABLED, actor=user, target=user.email, ip=ip)
        _tell_the_person(
            user,
            _("Two-factor authentication is off for your Padu account"),
            _(
                "Two-factor authentication was just turned off for your Padu account. If "
                "this was not you, choose a new password with “Forgot your password?” on "
                "the sign-in page straight away."
            ),
        )


def two_factor_record_sign_in_stopped(*, user: User, ip: str | None = None) -> None:
    """Note a sign-in that ended after too many wrong codes (the password was right)."""
    audit_record(
        action=AuditAction.TWO_FACTOR_SIGN_IN_STOPPED, actor=user, target=user.email, ip=ip
    )


@transaction.atomic
def organization_set_two_factor_required(
    *, membership: Membership, required: bool, ip: str | None = None
) -> bool:
    """Require (or stop requiring) a second factor of every member; owners only, and an
    owner turns it on only with it on for themselves. False when nothing changed."""
    if not membership.is_owner:
        raise TwoFactorError(_("Only owners can change this."))
    if required and not selectors.user_has_two_factor(membership.user):
        raise TwoFactorError(
            _(
                "Turn on two-factor authentication for your own account first, "
                "then require it of everyone."
            )
        )
    organization = membership.organization
    changed = (
        Organization.objects.filter(pk=organization.pk)
        .exclude(require_two_factor=required)
        .update(require_two_factor=required)
    )
    organization.require_two_factor = required
    if not changed:
        return False
    audit_record(
        action=(
            AuditAction.ORGANIZATION_TWO_FACTOR_REQUIRED
            if required
            else AuditAction.ORGANIZATION_TWO_FACTOR_OPTIONAL
        ),
        organization=organization,
        actor=membership.user,
        target=organization.name,
        ip=ip,
    )
    return True

"""What the operator's commands share: checking an address, describing an outcome."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email

from accounts import onboarding


def checked_email(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError as error:
        raise CommandError(f"{email!r} is not a valid e-mail address.") from error
    return email


def describe(provisioned: onboarding.Provisioned, email: str, role: str, slug: str) -> str:
    if provisioned.outcome == "invited":
        return (
            f"{email} has an account whose address is not confirmed yet: it was invited "
            f"as {role} to {slug} instead (the link is in its e-mail)."
        )
    if provisioned.outcome == "created" and not provisioned.user.has_usable_password():
        return f"{email} is {role} in {slug}; a link to choose a password was e-mailed."
    return f"{email} is {role} in {slug}."

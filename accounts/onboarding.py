"""How people come to Padu: signing up, confirming their e-mail address, setting a first
password, and operators adding them to organisations.

An address is confirmed only by a link that reached it (a confirmation, an invitation
or a set-your-password link). Until then an account opens only the organisations it
created, and operators invite it rather than make it a member, so whoever registers
someone else's address first gains nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import AuditAction, Membership, Organization, Role, User
from accounts.services import (
    audit_record,
    create_user_who_agreed,
    invitation_issue,
    membership_add,
    organization_create,
)
from padu.mail import email_on_commit

CONFIRMATION_SALT = "padu.accounts.email-confirmation"


def email_confirmation_token(user: User) -> str:
    """A signed token for the account's current address; a changed address voids it."""
    return signing.dumps({"user": user.pk, "email": user.email}, salt=CONFIRMATION_SALT)


def user_for_confirmation_token(token: str) -> User | None:
    """The account a confirmation token was made for, while it is fresh and the address
    is unchanged; None otherwise."""
    max_age = settings.EMAIL_CONFIRMATION_VALID_DAYS * 24 * 60 * 60
    try:
        claim = signing.loads(token, salt=CONFIRMATION_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=claim.get("user"), is_active=True).first()
    if user is None or user.email != claim.get("email"):
        return None
    return user


def email_confirmation_send(*, user: User) -> None:
    """E-mail the account a link that confirms its address."""
    link = settings.SITE_URL + reverse("email_confirm", args=[email_confirmation_token(user)])
    email_on_commit(
        subject=_("Confirm your e-mail address for Padu"),
        template="accounts/email/confirm_email.txt",
        context={"user": user, "link": link, "days": settings.EMAIL_CONFIRMATION_VALID_DAYS},
        to=user.email,
    )


@transaction.atomic
def user_update_profile(*, user: User, changed_fields: list[str], ip: str | None = None) -> None:
    """Save the fields of the user's profile that changed (the right to correct data). A
    new e-mail address is unconfirmed until the link sent to it is followed."""
    if not changed_fields:
        return
    if "email" in changed_fields:
        user.email_confirmed_at = None
        changed_fields = [*changed_fields, "email_confirmed_at"]
        email_confirmation_send(user=user)
    user.save(update_fields=changed_fields)
    audit_record(
        action=AuditAction.PROFILE_CHANGED,
        actor=user,
        target=", ".join(sorted(changed_fields)),
        ip=ip,
    )


def set_password_email_send(*, user: User) -> None:
    """E-mail the account a link to choose its password (also for accounts that have
    none yet, which Django's password reset form leaves out)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    email_on_commit(
        subject=_("Choose your Padu password"),
        template="accounts/email/set_password.txt",
        context={"user": user, "link": settings.SITE_URL + path},
        to=user.email,
    )


def _account_exists_email_send(user: User) -> None:
    email_on_commit(
        subject=_("You already have a Padu account"),
        template="accounts/email/account_exists.txt",
        context={
            "user": user,
            "sign_in": settings.SITE_URL + reverse("login"),
            "reset": settings.SITE_URL + reverse("password_reset"),
        },
        to=user.email,
    )


@transaction.atomic
def user_sign_up(
    *, email: str, full_name: str, password: str, organization_name: str, ip: str | None = None
) -> User | None:
    """Create an unconfirmed account (terms accepted, 18 or older) with its first
    organisation, and e-mail it a confirmation link. For an address that already has an
    account nothing is created and its holder is told by e-mail instead; the caller
    answers the same either way, so sign-up reveals no one's account."""
    try:
        with transaction.atomic():
            # Hashed either way, so both answers take as long.
            user = create_user_who_agreed(email=email, full_name=full_name, password=password)
    except IntegrityError:
        user = None
    if user is None:
        existing = User.objects.with_email(email).first()
        if existing is not None:
            _account_exists_email_send(existing)
        return None
    organization = organization_create(name=organization_name, owner=user, ip=ip)
    audit_record(
        action=AuditAction.SIGNED_UP, organization=organization, actor=user, target=email, ip=ip
    )
    email_confirmation_send(user=user)
    return user


@dataclass(frozen=True)
class Provisioned:
    """What an operator's command did for one address: "added" it as a member, "created"
    its account and added it, or "invited" it."""

    outcome: str
    user: User | None = None
    membership: Membership | None = None


def user_create_by_operator(*, email: str, password: str | None) -> User:
    """An account an operator makes for an address nobody has registered: the operator
    vouches for the address. Without a password its holder is e-mailed a link to set one."""
    user = User.objects.create_user(
        email=email, password=password, email_confirmed_at=timezone.now()
    )
    if not password:
        set_password_email_send(user=user)
    return user


@transaction.atomic
def membership_provision(
    *, organization: Organization, email: str, role: str, password: str | None = None
) -> Provisioned:
    """Give `email` the `role` in `organization`, as an operator: a confirmed account is
    made a member, an unconfirmed one is invited (its holder must prove the address), and
    a new address gets an account, with a set-your-password e-mail when `password` is
    not given. A password never changes an existing account."""
    user = User.objects.with_email(email).first()
    if user is not None and not user.email_confirmed:
        invitation_issue(organization=organization, email=user.email, role=role, invited_by=None)
        return Provisioned("invited", user=user)
    outcome = "added"
    if user is None:
        user = user_create_by_operator(email=email, password=password)
        outcome = "created"
    membership = membership_add(organization=organization, user=user, role=role)
    return Provisioned(outcome, user=user, membership=membership)


@transaction.atomic
def organization_create_by_operator(
    *, name: str, owner_email: str, password: str | None = None
) -> tuple[Organization, Provisioned]:
    """An organisation whose first owner is `owner_email`, provisioned as above."""
    organization = organization_create(name=name, owner=None)
    provisioned = membership_provision(
        organization=organization, email=owner_email, role=Role.OWNER, password=password
    )
    return organization, provisioned

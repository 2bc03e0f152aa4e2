"""A new privacy policy announced: every user is e-mailed once, and sees a notice in the
app until they dismiss it."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy

from accounts.models import User
from padu.mail import email_on_commit

USERS_AT_ONCE = 500


def policy_change_announce() -> int:
    """E-mail every active user not yet told of the current policy version; returns how
    many. Each is claimed before the e-mail, so two runs never tell anyone twice."""
    version = settings.PRIVACY_POLICY_VERSION
    link = settings.SITE_URL + reverse("privacy_policy")
    told = 0
    untold = User.objects.filter(is_active=True).exclude(policy_version_emailed=version)
    while batch := list(untold.values_list("pk", "email", "language")[:USERS_AT_ONCE]):
        for pk, email, language in batch:
            claimed = (
                User.objects.filter(pk=pk)
                .exclude(policy_version_emailed=version)
                .update(policy_version_emailed=version)
            )
            if claimed:
                email_on_commit(
                    subject=gettext_lazy("Padu's privacy policy has changed"),
                    template="privacy/email/policy_changed.txt",
                    context={"link": link, "version": version},
                    to=email,
                    language=language,
                )
                told += 1
    return told


def policy_notice_dismiss(*, user: User) -> None:
    """The person has seen the current policy's notice: it is no longer shown."""
    User.objects.filter(pk=user.pk).update(policy_version_seen=settings.PRIVACY_POLICY_VERSION)

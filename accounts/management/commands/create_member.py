from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import onboarding, services
from accounts.management.operator import checked_email, describe
from accounts.models import Organization, Role


class Command(BaseCommand):
    help = (
        "Give a person a role in an organisation. A new address gets an account; an "
        "existing account whose address is unconfirmed is invited instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The organisation's slug.")
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument(
            "--password",
            help="The password of a new account. Without it the person is e-mailed a link "
            "to choose one. An existing account's password is never changed.",
        )

    def handle(self, *args, slug: str, email: str, role: str, password: str | None, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organisation has the slug {slug!r}.")
        try:
            provisioned = onboarding.membership_provision(
                organization=organization, email=checked_email(email), role=role, password=password
            )
        except services.MembershipRuleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(describe(provisioned, email.lower(), role, organization.slug))

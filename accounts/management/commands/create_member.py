from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.management.commands.create_organization import user_for_email
from accounts.models import Organization, Role


class Command(BaseCommand):
    help = "Add a person (created if needed) to an organisation with a role."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The organisation's slug.")
        parser.add_argument("email")
        parser.add_argument("--role", choices=Role.values, default=Role.AGENT)
        parser.add_argument("--password", help="Set the person's password.")

    def handle(self, *args, slug: str, email: str, role: str, password: str | None, **options):
        organization = Organization.objects.filter(slug=slug).first()
        if organization is None:
            raise CommandError(f"No organisation has the slug {slug!r}.")
        user = user_for_email(email, password)
        try:
            membership = services.membership_add(organization=organization, user=user, role=role)
        except services.MembershipRuleError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{user.email} is {membership.role} in {organization.slug}.")

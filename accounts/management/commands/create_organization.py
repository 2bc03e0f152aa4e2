from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts import onboarding
from accounts.management.operator import checked_email, describe
from accounts.validators import validate_single_line


class Command(BaseCommand):
    help = (
        "Create an organisation with an owner; prints its slug. A new address gets an "
        "account; an existing account whose address is unconfirmed is invited instead."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="The owner's e-mail address.")
        parser.add_argument(
            "--password",
            help="The password of a new owner's account. Without it the owner is e-mailed "
            "a link to choose one. An existing account's password is never changed.",
        )

    def handle(self, *args, name: str, owner: str, password: str | None, **options) -> None:
        try:
            validate_single_line(name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        organization, provisioned = onboarding.organization_create_by_operator(
            name=name, owner_email=checked_email(owner), password=password
        )
        self.stdout.write(organization.slug)
        self.stderr.write(describe(provisioned, owner, "owner", organization.slug))

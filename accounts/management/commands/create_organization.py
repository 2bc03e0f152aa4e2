from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts import services
from accounts.models import User


def user_for_email(email: str, password: str | None) -> User:
    try:
        validate_email(email)
    except ValidationError as error:
        raise CommandError(f"{email!r} is not a valid e-mail address.") from error
    return services.user_get_or_create(email=email, password=password)


class Command(BaseCommand):
    help = "Create an organisation with an owner (created if needed); prints its slug."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="The owner's e-mail address.")
        parser.add_argument(
            "--password",
            help="Set the owner's password. Without it a new owner sets one by password reset.",
        )

    def handle(self, *args, name: str, owner: str, password: str | None, **options) -> None:
        user = user_for_email(owner, password)
        organization = services.organization_create(name=name, owner=user)
        self.stdout.write(organization.slug)

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_meta.simulator.callbacks import CALLBACK_PATHS, callback_send


class Command(BaseCommand):
    help = (
        "Play Meta's part when a person removes the app or asks for their data to be "
        "deleted: POST the signed callback, signed with META_APP_SECRET, to a running Padu."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("callback", choices=sorted(CALLBACK_PATHS))
        parser.add_argument("--meta-user-id", required=True, help="The person's app-scoped id.")
        parser.add_argument("--url", default=settings.SITE_URL, help="Padu's address.")

    def handle(self, *args, callback: str, meta_user_id: str, url: str, **options) -> None:
        if not settings.META_APP_SECRET:
            raise CommandError("META_APP_SECRET is not set: Padu could not check the signature.")
        response = callback_send(
            base_url=url,
            callback=callback,
            meta_user_id=meta_user_id,
            app_secret=settings.META_APP_SECRET,
        )
        if response.status_code != 200:
            raise CommandError(f"Padu answered {response.status_code}: {response.text[:200]}")
        self.stdout.write(response.text)

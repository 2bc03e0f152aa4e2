from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels_meta import vault
from channels_meta.services import tokens


class Command(BaseCommand):
    help = (
        "Re-encrypt every channel token under the newest key in TOKEN_ENCRYPTION_KEYS. "
        "Safe to interrupt and to run again."
    )

    def handle(self, *args, **options) -> None:
        report = tokens.channel_tokens_rotate()
        self.stdout.write(
            f"Re-encrypted {report.rotated} token(s) under key '{vault.current_key_id()}'; "
            f"{report.current} already used it; {report.failed} could not be decrypted."
        )
        if report.failed:
            raise CommandError(
                "Some tokens could not be decrypted: keep their old keys in "
                "TOKEN_ENCRYPTION_KEYS, or reconnect those channels."
            )

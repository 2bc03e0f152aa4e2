"""Every change to channels and their tokens goes through here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from channels_meta import vault
from channels_meta.models import Channel

logger = logging.getLogger(__name__)


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    failed: int = 0


def channel_tokens_rotate(*, batch_size: int = 200) -> RotationReport:
    """Re-encrypt every stored token under the newest key. Each channel is committed on
    its own, so an interrupted run loses nothing and a second run finishes the work."""
    report = RotationReport()
    newest = vault.current_key_id()
    pending_ids = (
        Channel.objects.exclude(token_ciphertext="")
        .exclude(token_ciphertext__startswith=f"{vault.FORMAT_VERSION}:{newest}:")
        .values_list("pk", flat=True)
        .iterator(chunk_size=batch_size)
    )
    report.current = Channel.objects.filter(
        token_ciphertext__startswith=f"{vault.FORMAT_VERSION}:{newest}:"
    ).count()
    for channel_id in list(pending_ids):
        with transaction.atomic():
            channel = Channel.objects.select_for_update().get(pk=channel_id)
            try:
                token = channel.get_token()
            except vault.VaultError as error:
                logger.error("Channel %s: token not re-encrypted: %s", channel.pk, error)
                report.failed += 1
                continue
            channel.set_token(token)
            channel.save(update_fields=["token_ciphertext"])
            report.rotated += 1
    return report

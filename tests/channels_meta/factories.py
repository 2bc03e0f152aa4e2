from __future__ import annotations

from django.utils import timezone

from accounts.models import Organization
from channels_meta.models import Channel, ChannelKind


def make_channel(
    organization: Organization,
    *,
    kind: str = ChannelKind.WHATSAPP,
    external_id: str = "1000001",
    token: str | None = "EAAG-test-token-0001",
    **fields,
) -> Channel:
    channel = Channel.objects.create(
        organization=organization,
        kind=kind,
        external_id=external_id,
        name=fields.pop("name", f"{kind} {external_id}"),
        connected_at=timezone.now(),
        **fields,
    )
    if token:
        channel.set_token(token)
        channel.save(update_fields=["token_ciphertext"])
    return channel

"""WhatsApp message templates: kept in step with Meta, and admins told when Meta approves
or rejects one."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.services import managers_notify
from channels_meta import vault
from channels_meta.graph import calls
from channels_meta.graph.errors import TokenInvalid
from channels_meta.models import Channel, ChannelKind, ChannelStatus, MessageTemplate
from channels_meta.services.tokens import token_refusal_handled, token_unreadable_report

DECIDED = {"APPROVED", "REJECTED"}


def _tell_about_decision(template: MessageTemplate, reason: str = "") -> None:
    channel = template.channel
    if template.status == "APPROVED":
        message = _("WhatsApp template %(template)s on %(channel)s was approved by Meta.")
    else:
        message = _("WhatsApp template %(template)s on %(channel)s was rejected by Meta.")
    message = message % {"template": template, "channel": channel.name}
    if reason and reason != "NONE":
        message += " " + _("Reason: %(reason)s") % {"reason": reason}
    managers_notify(
        organization=channel.organization,
        subject=_("Padu: template %(template)s %(status)s")
        % {"template": template.name, "status": template.get_status_display()},
        message=message,
        link=reverse("channel_templates", args=[channel.organization.slug, channel.pk]),
    )


def template_set_status(
    *, channel: Channel, name: str, language: str, status: str, reason: str = ""
) -> MessageTemplate | None:
    """Record a new status for one template (from a sync or from Meta's webhook); admins
    hear about approvals and rejections once."""
    with transaction.atomic():
        template = (
            MessageTemplate.objects.select_for_update()
            .filter(channel=channel, name=name, language=language)
            .first()
        )
        if template is None or template.status == status:
            return template
        template.status = status
        template.save(update_fields=["status", "updated_at"])
        if status in DECIDED:
            _tell_about_decision(template, reason)
    return template


def templates_sync(*, channel: Channel) -> int:
    """Fetch every template of the channel's WhatsApp Business Account from Meta and
    store them together; returns how many there are. Templates Meta no longer lists are
    removed."""
    if channel.kind != ChannelKind.WHATSAPP or channel.status != ChannelStatus.ACTIVE:
        return 0
    try:
        with token_refusal_handled(channel):
            items = calls.templates_list(waba_id=channel.waba_id, token=channel.get_token())
    except TokenInvalid:
        return 0
    except vault.VaultError as error:
        token_unreadable_report(channel=channel, error=error)
        return 0
    with transaction.atomic():
        known = {(t.name, t.language): t for t in MessageTemplate.objects.filter(channel=channel)}
        seen = set()
        for item in items:
            key = (str(item.get("name", "")), str(item.get("language", "")))
            if not all(key):
                continue
            seen.add(key)
            status = str(item.get("status", "")).upper()
            fields = {
                "meta_id": str(item.get("id", "")),
                "category": str(item.get("category", "")),
                "components": item.get("components") or [],
            }
            if key in known:
                MessageTemplate.objects.filter(pk=known[key].pk).update(**fields)
                template_set_status(channel=channel, name=key[0], language=key[1], status=status)
            else:
                MessageTemplate.objects.create(
                    organization=channel.organization,
                    channel=channel,
                    name=key[0],
                    language=key[1],
                    status=status,
                    **fields,
                )
        gone = [template.pk for key, template in known.items() if key not in seen]
        MessageTemplate.objects.filter(pk__in=gone).delete()
    return len(seen)

"""WhatsApp message templates: kept in step with Meta, and admins told when Meta approves,
rejects, flags, pauses or disables one, or its quality drops."""

from __future__ import annotations

from datetime import datetime

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.services import managers_notify
from channels_meta import vault
from channels_meta.graph.calls import templates
from channels_meta.graph.errors import TokenInvalid
from channels_meta.models import (
    Channel,
    ChannelKind,
    ChannelStatus,
    MessageTemplate,
    QualityRating,
    TemplateStatus,
    meta_reason_words,
)
from channels_meta.services.tokens import token_refusal_handled, token_unreadable_report
from inbox.services import outbox

# Statuses owners and admins hear about: Meta's decisions, and those that stop or
# threaten the template's use.
ANNOUNCED = {"APPROVED", "REJECTED", "FLAGGED", "PAUSED", "DISABLED"}
# message_template_status_update events that are not statuses: what they lead to.
EVENT_STATUSES = {"REINSTATED": TemplateStatus.APPROVED}
# Events after which only Meta's list says what the status is now.
RESYNC_EVENTS = {"UNARCHIVED"}
SCORE_ORDER = {QualityRating.RED: 0, QualityRating.YELLOW: 1, QualityRating.GREEN: 2}
SYNC_DEBOUNCE_SECONDS = 60
SYNC_TASK = "channels_meta.tasks.templates_sync_channel"


def _tell(template: MessageTemplate, subject: str, message: str) -> None:
    channel = template.channel
    managers_notify(
        organization=channel.organization,
        subject=subject,
        message=message,
        link=reverse("channel_templates", args=[channel.organization.slug, channel.pk]),
    )


def _tell_about_decision(template: MessageTemplate, reason: str = "") -> None:
    messages = {
        "APPROVED": _("WhatsApp template %(template)s on %(channel)s was approved by Meta."),
        "REJECTED": _(
            "WhatsApp template %(template)s on %(channel)s was rejected by Meta. Edit it "
            "in WhatsApp Manager to have it reviewed again, or appeal."
        ),
        "FLAGGED": _(
            "WhatsApp template %(template)s on %(channel)s received negative feedback: "
            "Meta will pause or disable it unless its quality improves."
        ),
        "PAUSED": _(
            "Meta paused WhatsApp template %(template)s on %(channel)s because customers "
            "reacted badly to it; it cannot be sent for now. Review its content."
        ),
        "DISABLED": _(
            "Meta disabled WhatsApp template %(template)s on %(channel)s: it can no longer "
            "be sent. Make a new template with different content."
        ),
    }
    message = messages[template.status] % {"template": template, "channel": template.channel.name}
    if meta_reason_words(reason):
        message += " " + _("Reason: %(reason)s") % {"reason": meta_reason_words(reason)}
    _tell(
        template,
        _("Padu: template %(template)s %(status)s")
        % {"template": template.name, "status": template.get_status_display()},
        message,
    )


def _locked_template(channel: Channel, name: str, language: str) -> MessageTemplate | None:
    """The template, locked. Meta's webhooks write languages as "en-US", its template
    list as "en_US"; either finds it."""
    languages = {language, language.replace("-", "_")}
    return (
        MessageTemplate.objects.select_for_update(of=("self",))
        .select_related("channel__organization")
        .filter(channel=channel, name=name, language__in=languages)
        .first()
    )


def templates_sync_soon(*, channel: Channel) -> None:
    """Have the worker sync the channel's templates once the transaction commits, at
    most once a minute per channel (a burst of webhooks about templates Padu has not
    seen yet asks for one sync)."""
    if channel.kind != ChannelKind.WHATSAPP or channel.status != ChannelStatus.ACTIVE:
        return
    if not cache.add(f"padu:template-sync:{channel.pk}", 1, timeout=SYNC_DEBOUNCE_SECONDS):
        return
    # By name: the tasks module imports this one.
    signature = current_app.signature(SYNC_TASK, args=(channel.pk,))
    transaction.on_commit(signature.delay, robust=True)


def template_set_status(
    *,
    channel: Channel,
    name: str,
    language: str,
    status: str,
    reason: str = "",
    category: str = "",
    from_webhook: bool = False,
) -> MessageTemplate | None:
    """Record a new status for one template (from a sync or from Meta's webhook), with
    Meta's reason; admins hear once about approvals, rejections, flags, pauses and
    disablings. A webhook about a template Padu has not synced yet syncs the channel's
    templates."""
    if status in RESYNC_EVENTS:
        templates_sync_soon(channel=channel)
        return None
    status = EVENT_STATUSES.get(status, status)
    if status not in TemplateStatus.values:
        return None  # LOCKED, UNLOCKED: the template keeps its status
    with transaction.atomic():
        template = _locked_template(channel, name, language)
        if template is None:
            if from_webhook:
                templates_sync_soon(channel=channel)
            return None
        fields = []
        if category and template.category != category:
            template.category = category
            fields.append("category")
        if from_webhook and template.status_reason != reason:
            template.status_reason = reason
            fields.append("status_reason")
        if template.status != status:
            template.status = status
            fields.append("status")
        if fields:
            template.save(update_fields=[*fields, "updated_at"])
        if "status" in fields:
            outbox.template_forward(template=template)
        if "status" in fields and status in ANNOUNCED:
            _tell_about_decision(template, reason)
    return template


def template_set_quality(
    *, channel: Channel, name: str, language: str, score: str
) -> MessageTemplate | None:
    """Record a template's quality score; admins hear when it drops."""
    score = score if score in SCORE_ORDER else QualityRating.UNKNOWN
    with transaction.atomic():
        template = _locked_template(channel, name, language)
        if template is None:
            templates_sync_soon(channel=channel)
            return None
        previous = template.quality_score
        if previous == score:
            return template
        template.quality_score = score
        template.save(update_fields=["quality_score", "updated_at"])
        dropped = previous in SCORE_ORDER and SCORE_ORDER.get(score, 3) < SCORE_ORDER[previous]
        if dropped or (score == QualityRating.RED and previous != score):
            _tell(
                template,
                _("Padu: quality of template %(template)s dropped") % {"template": template.name},
                _(
                    "Meta rates the quality of WhatsApp template %(template)s on %(channel)s "
                    "as %(quality)s now: customers are blocking or reporting it. Meta may "
                    "pause it if this continues."
                )
                % {
                    "template": template,
                    "channel": channel.name,
                    "quality": QualityRating(score).label.lower(),
                },
            )
    return template


def template_set_category(
    *,
    channel: Channel,
    name: str,
    language: str,
    category: str,
    change_to: str = "",
    change_at: datetime | None = None,
) -> MessageTemplate | None:
    """Record a template's category, or the category Meta will give it at `change_at`."""
    with transaction.atomic():
        template = _locked_template(channel, name, language)
        if template is None:
            templates_sync_soon(channel=channel)
            return None
        pending = change_to if change_to and change_to != category else ""
        template.category = category or template.category
        template.category_change_to = pending
        template.category_change_at = change_at if pending else None
        template.save(
            update_fields=["category", "category_change_to", "category_change_at", "updated_at"]
        )
    return template


def templates_sync(*, channel: Channel) -> int:
    """Fetch every template of the channel's WhatsApp Business Account from Meta and
    store them together; returns how many there are. Templates Meta no longer lists are
    removed."""
    if channel.kind != ChannelKind.WHATSAPP or channel.status != ChannelStatus.ACTIVE:
        return 0
    try:
        with token_refusal_handled(channel):
            items = templates.templates_list(waba_id=channel.waba_id, token=channel.get_token())
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
            quality = item.get("quality_score")
            score = str(quality.get("score", "")).upper() if isinstance(quality, dict) else ""
            if score in SCORE_ORDER:
                fields["quality_score"] = score
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

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channels_meta import tasks
from channels_meta.models import Channel, WebhookEvent
from channels_meta.webhooks import processing


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "organization", "status", "token_state", "last_event_at"]
    list_filter = ["kind", "status", "uses_instagram_login"]
    search_fields = ["name", "handle", "external_id", "waba_id", "organization__name"]
    list_select_related = ["organization"]
    # The token itself is never shown: only whether one is set and when it expires.
    exclude = ["token_ciphertext"]
    readonly_fields = [
        "organization",
        "kind",
        "external_id",
        "waba_id",
        "status",
        "token_state",
        "token_issued_at",
        "token_checked_at",
        "scopes",
        "meta_user_id",
        "connected_by",
        "connected_at",
        "disconnected_at",
        "last_event_at",
        "uses_instagram_login",
    ]

    @admin.display(description=_("token"))
    def token_state(self, channel: Channel) -> str:
        if not channel.has_token:
            return _("not set")
        if channel.token_expires_at is None:
            return _("set, does not expire")
        return _("set, expires on %(date)s") % {
            "date": date_format(channel.token_expires_at, "SHORT_DATE_FORMAT")
        }

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["pk", "object_type", "received_at", "status", "attempts", "processed_at"]
    list_filter = ["status", "object_type"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "object_type",
        "received_at",
        "status",
        "attempts",
        "error",
        "processed_at",
        "unroutable_keys",
        "payload",
    ]
    exclude = ["body"]
    actions = ["retry"]

    @admin.display(description=_("payload"))
    def payload(self, event: WebhookEvent) -> str:
        return bytes(event.body).decode("utf-8", errors="replace")[:20000]

    @admin.action(description=_("Process the selected events again"))
    def retry(self, request, queryset) -> None:
        event_ids = processing.webhook_events_retry(
            event_ids=list(queryset.values_list("pk", flat=True)),
            enqueue=tasks.webhook_event_process.delay,
        )
        message = ngettext(
            "%(count)d event queued again.", "%(count)d events queued again.", len(event_ids)
        )
        self.message_user(request, message % {"count": len(event_ids)}, messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

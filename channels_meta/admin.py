from __future__ import annotations

from django.contrib import admin
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from channels_meta.models import Channel


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

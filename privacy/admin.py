from __future__ import annotations

from django.contrib import admin

from privacy.models import DataRequest


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    """Platform staff follow requests here; they change only through Padu's services."""

    list_display = ["__str__", "source", "status", "organization", "received_at", "due_at"]
    list_filter = ["kind", "status", "source"]
    list_select_related = ["organization"]
    search_fields = ["confirmation_code"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.models import AuditAction, AuditEvent, Invitation, Membership, Organization, User
from accounts.net import client_ip


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at", "is_suspended", "suspended_at"]
    list_filter = ["is_suspended", "created_at"]
    search_fields = ["name", "slug", "memberships__user__email"]
    readonly_fields = ["created_at", "is_suspended", "suspended_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    actions = ["suspend", "unsuspend"]

    def _set_suspended(self, request, queryset, suspended: bool) -> int:
        return sum(
            services.organization_set_suspended(
                organization=organization,
                suspended=suspended,
                actor=request.user,
                ip=client_ip(request),
            )
            for organization in queryset
        )

    @admin.action(description=_("Suspend the selected organisations"))
    def suspend(self, request, queryset) -> None:
        count = self._set_suspended(request, queryset, True)
        message = ngettext(
            "%(count)d organisation suspended.", "%(count)d organisations suspended.", count
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Reinstate the selected organisations"))
    def unsuspend(self, request, queryset) -> None:
        count = self._set_suspended(request, queryset, False)
        message = ngettext(
            "%(count)d organisation reinstated.", "%(count)d organisations reinstated.", count
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["date_joined", "last_login", "terms_accepted_at", "adult_confirmed_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Profile"), {"fields": ["full_name", "language", "time_zone"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (
            _("Dates"),
            {"fields": ["date_joined", "last_login", "terms_accepted_at", "adult_confirmed_at"]},
        ),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name", "organization__slug"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization"]
    fields = [
        "organization",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False


class ActionFilter(admin.SimpleListFilter):
    """Audit actions by name (the field has no `choices`, so that a new action needs no
    migration)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return AuditAction.choices

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "actor", "action_name", "target", "ip"]
    list_filter = [ActionFilter]
    search_fields = ["organization__name", "actor__email", "target", "ip"]
    list_select_related = ["organization", "actor"]
    date_hierarchy = "created_at"

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, event: AuditEvent) -> str:
        return event.action_label

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

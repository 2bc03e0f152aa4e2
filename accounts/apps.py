from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and organisations")


class PlatformAdminConfig(admin_apps.AdminConfig):
    """Django admin, served by Padu's own site (accounts/admin_site.py)."""

    default = False
    default_site = "accounts.admin_site.PlatformAdminSite"

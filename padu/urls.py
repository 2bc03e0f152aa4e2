from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import tenant_patterns as organization_patterns
from channels_meta.api import api_patterns as channel_api_patterns
from channels_meta.urls import tenant_patterns as channel_patterns
from inbox.api.urls import api_patterns as inbox_api_patterns
from inbox.overview import organization_home
from inbox.urls import forwarding_patterns
from inbox.urls import public_patterns as inbox_public_patterns
from inbox.urls import tenant_patterns as inbox_patterns
from padu import api
from privacy.api import api_patterns as privacy_api_patterns
from privacy.urls import tenant_patterns as privacy_patterns

admin.site.site_header = _("Padu platform administration")
admin.site.site_title = _("Padu administration")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/<slug:org_slug>/", organization_home, name="organization_home"),
    path("o/<slug:org_slug>/", include(organization_patterns)),
    path("o/<slug:org_slug>/channels/", include(channel_patterns)),
    path("o/<slug:org_slug>/inbox/", include(inbox_patterns)),
    path("o/<slug:org_slug>/privacy/", include(privacy_patterns)),
    path("o/<slug:org_slug>/settings/forwarding/", include(forwarding_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path(
        "api/v1/o/<slug:org_slug>/",
        include([*inbox_api_patterns, *channel_api_patterns, *privacy_api_patterns]),
    ),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
    path("", include("channels_meta.urls")),
    path("", include("privacy.urls")),
    path("", include(inbox_public_patterns)),
    path("", include("accounts.urls")),
]

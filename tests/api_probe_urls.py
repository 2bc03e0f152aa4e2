"""Padu's URLs plus one API view on the tenant base view, to test what every API view
under an organisation inherits."""

from __future__ import annotations

from django.urls import path
from rest_framework.response import Response

from accounts.services import MembershipRuleError
from accounts.tenancy import TenantAPIView
from padu.urls import urlpatterns as padu_urlpatterns


class ProbeView(TenantAPIView):
    def get(self, request, org_slug):
        return Response({"organization": self.organization.slug, "role": self.membership.role})

    def post(self, request, org_slug):
        raise MembershipRuleError("Only owners can grant or remove the owner role.")


class ManagersProbeView(ProbeView):
    managers_only = True


urlpatterns = [
    *padu_urlpatterns,
    path("api/v1/o/<slug:org_slug>/probe/", ProbeView.as_view(), name="api_probe"),
    path(
        "api/v1/o/<slug:org_slug>/managers-probe/",
        ManagersProbeView.as_view(),
        name="api_managers_probe",
    ),
]

"""Data requests through the API: owners and admins read the organisation's queue, and any
member records a request a customer made of them, as on the contact's page."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member
from inbox.models import Contact
from privacy import selectors
from privacy.models import CUSTOMER_KINDS, DataRequest
from privacy.services.customer_requests import contact_request_record


class DataRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataRequest
        fields = [
            "id",
            "kind",
            "source",
            "status",
            "subject_identifier",
            "contacts",
            "requester_email",
            "details",
            "received_at",
            "due_at",
            "completed_at",
            "reason",
            "outcome",
        ]


class ContactRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind.value, kind.label) for kind in CUSTOMER_KINDS])
    requester_email = serializers.EmailField(
        required=False, default="", help_text="The customer is e-mailed the outcome."
    )
    details = serializers.CharField(required=False, default="", max_length=2000)


class DataRequestListQuerySerializer(serializers.Serializer):
    answered = serializers.BooleanField(
        required=False, default=False, help_text="Answered requests instead of open ones."
    )


class DataRequestList(TenantAPIView):
    managers_only = True

    @extend_schema(
        operation_id="data_requests_list",
        parameters=[DataRequestListQuerySerializer],
        responses=DataRequestSerializer(many=True),
    )
    def get(self, request: Request, org_slug: str) -> Response:
        """Owners and admins: open requests, soonest due first (or the latest 100 answered)."""
        query = DataRequestListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queue = selectors.data_request_queue(self.organization, **query.validated_data)
        requests = queue.prefetch_related("contacts")[:100]
        return Response(DataRequestSerializer(requests, many=True).data)


class DataRequestDetail(TenantAPIView):
    managers_only = True

    @extend_schema(operation_id="data_requests_retrieve", responses=DataRequestSerializer)
    def get(self, request: Request, org_slug: str, data_request_id: int) -> Response:
        data_request = get_for_member(
            selectors.answerable_data_requests(), self.membership, data_request_id
        )
        return Response(DataRequestSerializer(data_request).data)


class ContactDataRequest(TenantAPIView):
    @extend_schema(
        operation_id="contacts_data_request",
        request=ContactRequestSerializer,
        responses={201: DataRequestSerializer},
        examples=[OpenApiExample("Erasure", value={"kind": "erasure"}, request_only=True)],
    )
    def post(self, request: Request, org_slug: str, contact_id: int) -> Response:
        """Record that this customer asked for their data to be exported, erased, … : the
        request waits for an owner or admin, who is told."""
        contact = get_for_member(Contact.objects.all(), self.membership, contact_id)
        data = ContactRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = contact_request_record(
            membership=self.membership, contact=contact, **data.validated_data
        )
        return Response(DataRequestSerializer(recorded).data, status=status.HTTP_201_CREATED)


api_patterns = [
    path("data-requests/", DataRequestList.as_view(), name="api_data_requests"),
    path(
        "data-requests/<int:data_request_id>/",
        DataRequestDetail.as_view(),
        name="api_data_request",
    ),
    path(
        "contacts/<int:contact_id>/data-requests/",
        ContactDataRequest.as_view(),
        name="api_contact_data_request",
    ),
]

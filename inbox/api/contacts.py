"""Contacts through the API: find and read them, keep the business's own fields, and
import a WhatsApp channel's customers by phone number."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.tenancy import TenantAPIView, get_for_member
from channels_meta.models import Channel
from inbox import selectors
from inbox.api.serializers import ContactSerializer, ContactUpdateSerializer
from inbox.models import Contact
from inbox.services import contacts as contact_services
from inbox.services.conversations import contact_update
from padu.api import page_response, page_serializer

PHONE_SEPARATORS = re.compile(r"[\s().-]")


class ContactListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=200, help_text="Part of a name, username or phone, or an e-mail."
    )
    channel = serializers.IntegerField(required=False, min_value=1)
    after = serializers.IntegerField(
        required=False, min_value=1, help_text="From the previous page's `next` link."
    )


class PhoneField(serializers.CharField):
    """A phone number in international form: `+90 532 000 00 00` becomes `905320000000`."""

    def to_internal_value(self, data):
        digits = PHONE_SEPARATORS.sub("", super().to_internal_value(data)).removeprefix("+")
        if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15):
            raise serializers.ValidationError(
                "A phone number with its country code, e.g. +90 532 000 00 00."
            )
        return digits


class ContactImportRowSerializer(serializers.Serializer):
    phone = PhoneField(max_length=32)
    custom_name = serializers.CharField(max_length=200, required=False, default="")
    email = serializers.EmailField(required=False, default="")
    notes = serializers.CharField(max_length=10_000, required=False, default="")


class ContactImportSerializer(serializers.Serializer):
    channel = serializers.IntegerField(min_value=1, help_text="A WhatsApp channel's id.")
    contacts = ContactImportRowSerializer(
        many=True, max_length=contact_services.MAX_IMPORT, allow_empty=False
    )


class ContactImportResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.IntegerField(), help_text="New contacts.")
    contacts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every imported contact's id, in order."
    )


class ContactList(TenantAPIView):
    @extend_schema(
        operation_id="contacts_list",
        parameters=[ContactListQuerySerializer],
        responses=page_serializer(ContactSerializer),
    )
    def get(self, request: Request, org_slug: str) -> Response:
        """The organisation's contacts, newest first, 50 a page."""
        query = ContactListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = selectors.contacts_page(self.organization, **query.validated_data)
        return page_response(request, page.contacts, ContactSerializer, after=page.after)


class ContactDetail(TenantAPIView):
    def _contact(self, contact_id: int) -> Contact:
        return get_for_member(Contact.objects.all(), self.membership, contact_id)

    @extend_schema(operation_id="contacts_retrieve", responses=ContactSerializer)
    def get(self, request: Request, org_slug: str, contact_id: int) -> Response:
        return Response(ContactSerializer(self._contact(contact_id)).data)

    @extend_schema(
        operation_id="contacts_update",
        request=ContactUpdateSerializer,
        responses=ContactSerializer,
        examples=[
            OpenApiExample("Notes", value={"notes": "Prefers e-mail invoices."}, request_only=True)
        ],
    )
    def patch(self, request: Request, org_slug: str, contact_id: int) -> Response:
        """Change the business's own fields of the contact (Meta's stay as Meta says)."""
        contact = self._contact(contact_id)
        data = ContactUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {name: getattr(contact, name) for name in contact_services.LOCAL_FIELDS}
        contact_update(
            membership=self.membership, contact=contact, **{**fields, **data.validated_data}
        )
        return Response(ContactSerializer(self._contact(contact_id)).data)


class ContactImportView(TenantAPIView):
    @extend_schema(
        operation_id="contacts_import",
        request=ContactImportSerializer,
        responses=ContactImportResultSerializer,
        examples=[
            OpenApiExample(
                "Two customers",
                value={
                    "channel": 2,
                    "contacts": [
                        {"phone": "+90 532 000 00 00", "custom_name": "Ayşe Yılmaz"},
                        {"phone": "+44 7700 900123", "email": "sam@example.com"},
                    ],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, org_slug: str) -> Response:
        """Create or update up to 1,000 contacts of a WhatsApp channel by phone number."""
        data = ContactImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = get_for_member(
            Channel.objects.all(), self.membership, data.validated_data["channel"]
        )
        rows = [contact_services.ContactImport(**row) for row in data.validated_data["contacts"]]
        resolved = contact_services.contacts_import(
            membership=self.membership, channel=channel, rows=rows
        )
        return Response(
            {
                "created": sorted(contact.pk for contact in resolved.created),
                "contacts": [resolved.contacts[row.phone].pk for row in rows],
            }
        )

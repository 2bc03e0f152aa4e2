"""Contacts through the API: find them, keep the business's own fields, record a data
request, and import a WhatsApp channel's customers by phone number."""

from __future__ import annotations

import pytest

from channels_meta.models import ChannelKind
from inbox.models import Contact
from inbox.selectors import API_PAGE_SIZE
from privacy.models import DataRequest
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(world):
    return make_channel(world.org)


def test_contacts_are_listed_newest_first_in_pages(api, whatsapp):
    made = [make_conversation(whatsapp, name=f"C{n}").contact for n in range(API_PAGE_SIZE + 2)]

    first = api.get("contacts/").json()
    second = api.client.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {api.key}").json()

    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == [contact.pk for contact in reversed(made)]
    assert second["next"] is None


def test_contacts_are_found_by_name_or_email(api, whatsapp):
    ayse = make_conversation(whatsapp, name="Ayşe Yılmaz").contact
    sam = make_conversation(whatsapp, name="Sam").contact
    sam.email = "sam@example.com"
    sam.save(update_fields=["email"])

    def found(q: str) -> list[int]:
        return [row["id"] for row in api.get("contacts/", {"q": q}).json()["results"]]

    assert found("Yılmaz") == [ayse.pk]
    assert found("sam@example.com") == [sam.pk]
    assert found("nobody") == []


def test_the_business_s_fields_change_and_meta_s_stay(api, whatsapp):
    contact = make_conversation(whatsapp, name="Ayşe").contact

    response = api.patch(f"contacts/{contact.pk}/", {"notes": "Prefers mornings.", "name": "X"})

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.notes, contact.name) == ("Prefers mornings.", "Ayşe")


def test_an_invalid_email_is_a_400_naming_the_field(api, whatsapp):
    contact = make_conversation(whatsapp).contact

    response = api.patch(f"contacts/{contact.pk}/", {"email": "not an address"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["email"]


def test_a_member_records_a_customers_data_request(world, api, whatsapp):
    contact = make_conversation(whatsapp).contact

    response = api.post(f"contacts/{contact.pk}/data-requests/", {"kind": "erasure"})

    assert response.status_code == 201
    recorded = DataRequest.objects.get()
    assert (recorded.kind, recorded.status, list(recorded.contacts.all())) == (
        "erasure",
        "verified",
        [contact],
    )


def test_importing_creates_and_updates_whatsapp_contacts_by_phone(world, api, whatsapp):
    known = make_conversation(whatsapp, customer="905320000000").contact

    response = api.post(
        "contacts/import",
        {
            "channel": whatsapp.pk,
            "contacts": [
                {"phone": "+90 532 000 00 00", "notes": "Wholesale"},
                {"phone": "+44 (7700) 900-123", "custom_name": "Sam", "email": "sam@example.com"},
            ],
        },
    )

    assert response.status_code == 200
    new = Contact.objects.get(external_id="447700900123")
    assert response.json() == {"created": [new.pk], "contacts": [known.pk, new.pk]}
    known.refresh_from_db()
    assert (known.notes, known.name) == ("Wholesale", "Ayşe Yılmaz")
    assert (new.custom_name, new.email, new.phone, new.organization) == (
        "Sam",
        "sam@example.com",
        "447700900123",
        world.org,
    )


def test_importing_again_creates_nothing(api, whatsapp):
    body = {"channel": whatsapp.pk, "contacts": [{"phone": "+905320000000"}]}

    first = api.post("contacts/import", body).json()
    again = api.post("contacts/import", body).json()

    assert again == {"created": [], "contacts": first["contacts"]}
    assert Contact.objects.count() == 1


def test_only_whatsapp_channels_take_imports(world, api):
    messenger = make_channel(world.org, kind=ChannelKind.MESSENGER, external_id="777")

    response = api.post(
        "contacts/import", {"channel": messenger.pk, "contacts": [{"phone": "+905320000000"}]}
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "Contacts can be imported into WhatsApp channels only."


def test_a_bad_phone_number_is_named_and_nothing_is_imported(api, whatsapp):
    response = api.post(
        "contacts/import",
        {"channel": whatsapp.pk, "contacts": [{"phone": "+905320000000"}, {"phone": "12ab"}]},
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "contacts": {
            "1": {"phone": ["A phone number with its country code, e.g. +90 532 000 00 00."]}
        }
    }
    assert not Contact.objects.exists()


def test_another_organisations_channel_is_404(world, api):
    theirs = make_channel(world.other_org, external_id="888")

    response = api.post(
        "contacts/import", {"channel": theirs.pk, "contacts": [{"phone": "+905320000000"}]}
    )

    assert response.status_code == 404
    assert not Contact.objects.exists()


def test_more_than_a_thousand_rows_is_a_400(api, whatsapp):
    rows = [{"phone": f"+9053200{n:05d}"} for n in range(1001)]

    response = api.post("contacts/import", {"channel": whatsapp.pk, "contacts": rows})

    assert response.status_code == 400
    assert not Contact.objects.exists()

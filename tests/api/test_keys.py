"""API keys: made and revoked by owners and admins on the web, shown once, kept as a hash,
scoped, rate limited, and gone with the manager who made them."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from accounts.models import ApiKey, AuditEvent, Organization, Role
from accounts.services import membership_change_role, membership_remove
from tests.api.conftest import api_for
from tests.channels_meta.factories import make_channel
from tests.inbox.factories import make_conversation

pytestmark = pytest.mark.django_db


def _create_on_the_web(client, world, **form) -> str:
    client.force_login(world.owner.user)
    response = client.post(
        reverse("api_keys", args=[world.org.slug]), {"name": "CRM sync", "scope": "read", **form}
    )
    assert response.status_code == 200
    return re.search(r'value="(padu_[\w-]+)"', response.content.decode()).group(1)


def test_an_owner_creates_a_key_shown_once_and_stored_only_as_a_hash(client, world):
    key = _create_on_the_web(client, world)

    row = ApiKey.objects.get()
    assert len(key) == 48
    assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiKey.objects.values().get())
    assert (row.name, row.scope, row.membership, row.prefix) == (
        "CRM sync",
        "read",
        world.owner,
        key[:12],
    )
    listing = client.get(reverse("api_keys", args=[world.org.slug])).content.decode()
    assert key not in listing
    assert f"{key[:12]}…" in listing
    assert AuditEvent.objects.filter(action="api_key.created", actor=world.owner.user).exists()


def test_the_key_reads_its_organisation(client, world):
    key = _create_on_the_web(client, world)
    client.logout()

    response = client.get(
        "/api/v1/o/acme/conversations/", HTTP_AUTHORIZATION=f"Bearer {key}", REMOTE_ADDR="10.1.2.3"
    )

    assert response.status_code == 200
    row = ApiKey.objects.get()
    assert row.last_used_at is not None
    assert row.last_used_ip == "10.1.2.3"


def test_an_agent_cannot_create_a_key(client, world):
    client.force_login(world.agent.user)

    response = client.post(
        reverse("api_keys", args=[world.org.slug]), {"name": "Mine", "scope": "write"}
    )

    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_key_without_a_name_is_refused_with_the_form_again(client, world):
    client.force_login(world.owner.user)

    response = client.post(reverse("api_keys", args=[world.org.slug]), {"scope": "read"})

    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_revoked_key_is_refused_at_once(client, world, api):
    client.force_login(world.owner.user)
    client.post(reverse("api_key_revoke", args=[world.org.slug, api.row.pk]))

    response = api.get("conversations/")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "This API key is not valid, or it was revoked.",
        "code": "authentication_failed",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert AuditEvent.objects.filter(action="api_key.revoked", target__contains="write key")
    listing = client.get(reverse("api_keys", args=[world.org.slug])).content.decode()
    assert f"{api.row.prefix}…" not in listing


@pytest.mark.parametrize(
    "header",
    ["Bearer padu_not-a-key", "Bearer", "Bearer two words", "Bearer sk_live_abc", "Bearer é"],
)
def test_anything_but_a_valid_key_is_401(client, world, header):
    response = client.get("/api/v1/o/acme/conversations/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_no_credentials_is_401_asking_for_a_bearer_key(client, world):
    response = client.get("/api/v1/o/acme/conversations/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_key_reaches_only_its_own_organisation(world, api):
    other = api.get("/api/v1/o/other/conversations/")
    missing = api.get("/api/v1/o/nowhere/conversations/")

    assert (other.status_code, missing.status_code) == (404, 404)
    assert other.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}


def test_a_read_key_cannot_write(world, read_api):
    conversation = make_conversation(make_channel(world.org))

    reading = read_api.get(f"conversations/{conversation.pk}/")
    writing = read_api.post(f"conversations/{conversation.pk}/status/", {"status": "resolved"})

    assert reading.status_code == 200
    assert writing.status_code == 403
    assert writing.json()["detail"] == "This API key may only read."
    conversation.refresh_from_db()
    assert conversation.status == "open"


def test_a_key_stops_when_its_creator_is_no_longer_a_manager(world, api):
    admin = world.agent
    admin.role = Role.ADMIN
    admin.save(update_fields=["role"])
    admins_key = api_for(admin)

    membership_change_role(actor=world.owner, membership=admin, role=Role.AGENT)

    assert admins_key.get("conversations/").status_code == 401
    assert api.get("conversations/").status_code == 200
    assert AuditEvent.objects.filter(
        action="api_key.revoked", target__contains=admin.user.email
    ).exists()


def test_a_key_goes_with_the_member_who_made_it(world):
    admin = world.agent
    admin.role = Role.ADMIN
    admin.save(update_fields=["role"])
    admins_key = api_for(admin)

    membership_remove(actor=world.owner, membership=admin)

    assert admins_key.get("conversations/").status_code == 401
    assert not ApiKey.objects.exists()
    assert AuditEvent.objects.filter(action="api_key.revoked").count() == 1


def test_a_deactivated_creator_s_key_is_refused(world, api):
    world.owner.user.is_active = False
    world.owner.user.save(update_fields=["is_active"])

    assert api.get("conversations/").status_code == 401


def test_a_suspended_organisation_refuses_its_keys(world, api):
    Organization.objects.filter(pk=world.org.pk).update(is_suspended=True)

    response = api.get("conversations/")

    assert response.status_code == 403
    assert response.json()["detail"] == "This organisation is suspended."


def test_a_key_over_its_rate_is_told_when_to_come_back(world, api, settings):
    settings.API_KEY_RATE_LIMIT = 3
    other_key = api_for(world.owner)

    codes = [api.get("labels/").status_code for _ in range(4)]
    refused = api.get("labels/")

    assert codes == [200, 200, 200, 429]
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert other_key.get("labels/").status_code == 200


def test_at_most_fifty_keys_are_active(client, world, settings):
    for _ in range(50):
        api_for(world.owner, "read")
    client.force_login(world.owner.user)

    response = client.post(
        reverse("api_keys", args=[world.org.slug]), {"name": "One more", "scope": "read"}
    )

    assert "at most 50 API keys" in response.content.decode()
    assert ApiKey.objects.count() == 50


def test_the_secret_is_in_no_audit_line_and_no_later_page(client, world):
    key = _create_on_the_web(client, world)

    assert not AuditEvent.objects.filter(target__contains=key[12:]).exists()
    assert key not in client.get(reverse("audit_log", args=[world.org.slug])).content.decode()

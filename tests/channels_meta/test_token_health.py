from __future__ import annotations

import os
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEvent, Notice, User
from channels_meta.graph import client as graph_client
from channels_meta.graph import errors
from channels_meta.graph.calls import templates
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services import tokens
from channels_meta.tasks import tokens_check_all
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(celery_eager):
    return celery_eager


def instagram_login_channel(meta, world, *, days_left, issued_days_ago=50):
    account = meta.assets["instagram_accounts"][1]
    state = meta.state
    token = state.new_token("instagram", next(iter(state.users)), subject_id=account["id"])
    token.issued_at -= issued_days_ago * 86400
    token.expires_at = state.clock() + days_left * 86400
    return make_channel(
        world.org,
        kind=ChannelKind.INSTAGRAM,
        external_id=account["id"],
        token=token.value,
        uses_instagram_login=True,
        token_issued_at=timezone.now() - timedelta(days=issued_days_ago),
        token_expires_at=timezone.now() + timedelta(days=days_left),
    )


def test_instagram_tokens_with_less_than_10_days_left_are_refreshed(meta, world):
    channel = instagram_login_channel(meta, world, days_left=5)
    old_token = channel.get_token()

    outcomes = tokens_check_all.delay().get()

    channel.refresh_from_db()
    assert outcomes == {"refreshed": 1}
    assert channel.get_token() != old_token
    assert meta.state.tokens[channel.get_token()].kind == "instagram"
    assert channel.token_expires_at - timezone.now() > timedelta(days=59)


def test_instagram_tokens_with_time_left_are_only_checked(meta, world):
    channel = instagram_login_channel(meta, world, days_left=30)
    old_token = channel.get_token()

    assert tokens.channel_check_token(channel=channel) == "ok"
    assert Channel.objects.get(pk=channel.pk).get_token() == old_token


def test_a_refused_token_flags_the_channel_e_mails_admins_once_and_shows_a_banner(
    meta, world, client, mailoutbox, django_capture_on_commit_callbacks
):
    page = meta.assets["pages"][0]
    channel = make_channel(
        world.org,
        kind=ChannelKind.MESSENGER,
        external_id=page["id"],
        token=page["system_token"],
        name="Kahve Evi",
    )
    meta.http.post("/_sim/expire_token", json={"token": page["system_token"]})

    with django_capture_on_commit_callbacks(execute=True):
        assert tokens.channel_check_token(channel=channel) == "needs_reauth"
        tokens.channel_check_token(channel=Channel.objects.get(pk=channel.pk))

    channel.refresh_from_db()
    assert (channel.status, channel.reauth_reason) == (ChannelStatus.NEEDS_REAUTH, "token_expired")
    assert [mail.to for mail in mailoutbox] == [["owner@acme.example"]]
    assert "reconnect" in mailoutbox[0].subject.lower()
    assert "The access Meta gave Padu for this channel has expired." in mailoutbox[0].body
    assert "463" not in mailoutbox[0].body
    # The banner tells it on every page while it lasts: no notice repeats it.
    assert not Notice.objects.for_org(world.org).exists()
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_NEEDS_REAUTH).count() == 1
    client.force_login(world.agent.user)
    page_html = client.get(reverse("members", args=[world.org.slug])).content.decode()
    assert "has lost its connection to Meta" in page_html
    assert "The access Meta gave Padu for this channel has expired." in page_html
    assert "Owners and admins can reconnect it on the Channels page." in page_html


def test_a_flagged_channel_is_not_checked_again_and_reconnecting_clears_it(meta, world):
    channel = make_channel(world.org, status=ChannelStatus.NEEDS_REAUTH)

    assert tokens_check_all.delay().get() == {}
    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.NEEDS_REAUTH


def test_meta_being_unreachable_does_not_flag_a_channel(world):
    graph_client.use_transport(httpx.MockTransport(lambda request: httpx.Response(503)))
    try:
        channel = make_channel(world.org)
        assert tokens.channel_check_token(channel=channel) == "unreachable"
    finally:
        graph_client.use_transport(None)
    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.ACTIVE


def test_managers_dismiss_notices(meta, world, client):
    notice = Notice.objects.create(organization=world.org, message="Something happened")
    client.force_login(world.owner.user)

    response = client.post(
        reverse("notice_dismiss", args=[world.org.slug, notice.pk]),
        {"next": "https://evil.example/phish"},
    )

    notice.refresh_from_db()
    assert notice.dismissed_at is not None
    assert response["Location"] == reverse("organization_home", args=[world.org.slug])


def test_notices_of_another_organisation_are_404(meta, world, client):
    notice = Notice.objects.create(organization=world.org, message="Private")
    client.force_login(world.outsider.user)

    response = client.post(reverse("notice_dismiss", args=[world.org.slug, notice.pk]))
    other = client.post(reverse("notice_dismiss", args=[world.other_org.slug, notice.pk]))

    assert (response.status_code, other.status_code) == (404, 404)
    assert Notice.objects.get(pk=notice.pk).dismissed_at is None


def test_a_key_missing_from_the_ring_is_the_operators_problem_not_the_tenants(
    meta, world, settings, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    original = {"k7old": os.urandom(32)}
    settings.TOKEN_ENCRYPTION_KEYS = original
    User.objects.create_superuser(email="staff@padu.example")
    page = meta.assets["pages"][0]
    channel = make_channel(
        world.org, kind=ChannelKind.MESSENGER, external_id=page["id"], token=page["system_token"]
    )
    settings.TOKEN_ENCRYPTION_KEYS = {"k8new": os.urandom(32)}

    with django_capture_on_commit_callbacks(execute=True):
        assert tokens_check_all.delay().get() == {"undecryptable": 1}
        assert tokens_check_all.delay().get() == {"undecryptable": 1}

    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.ACTIVE
    assert not Notice.objects.for_org(world.org).exists()
    assert not AuditEvent.objects.filter(organization=world.org).exists()
    assert [mail.to for mail in mailoutbox] == [["staff@padu.example"]]
    assert "k7old" in mailoutbox[0].body
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any(f"Channel {channel.pk}" in error and "k7old" in error for error in errors)
    assert page["system_token"] not in caplog.text

    settings.TOKEN_ENCRYPTION_KEYS = {**original, "k8new": os.urandom(32)}
    assert tokens_check_all.delay().get() == {"ok": 1}


def test_disconnecting_with_an_undecryptable_token_tells_the_tenant_nothing_about_keys(
    meta, world, settings, client
):
    settings.TOKEN_ENCRYPTION_KEYS = {"k7old": os.urandom(32)}
    channel = make_channel(world.org, kind=ChannelKind.WHATSAPP, waba_id="2000001")
    settings.TOKEN_ENCRYPTION_KEYS = {"k8new": os.urandom(32)}
    client.force_login(world.owner.user)

    response = client.post(
        reverse("channel_disconnect", args=[world.org.slug, channel.pk]), follow=True
    )

    page = response.content.decode()
    assert "could not use the stored token" in page
    assert "k7old" not in page
    assert "unknown key" not in page
    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.DISCONNECTED
    for event in AuditEvent.objects.filter(organization=world.org):
        assert "k7old" not in event.target


def test_a_token_meta_refuses_anywhere_flags_the_channel_and_stops_the_caller(meta, world):
    number = meta.assets["whatsapp_numbers"][0]
    channel = make_channel(
        world.org, external_id=number["id"], waba_id=number["waba_id"], token=number["system_token"]
    )
    meta.http.post("/_sim/expire_token", json={"token": number["system_token"]})

    with pytest.raises(errors.TokenInvalid), tokens.token_refusal_handled(channel):
        templates.templates_list(waba_id=channel.waba_id, token=channel.get_token())

    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.NEEDS_REAUTH
    assert AuditEvent.objects.filter(action=AuditAction.CHANNEL_NEEDS_REAUTH).count() == 1


def test_other_refusals_pass_through_without_flagging_the_channel(world):
    channel = make_channel(world.org)

    with pytest.raises(errors.TransientError), tokens.token_refusal_handled(channel):
        raise errors.TransientError("Meta did not answer in time.")

    assert Channel.objects.get(pk=channel.pk).status == ChannelStatus.ACTIVE


def test_a_missing_permission_asks_for_a_reconnect_naming_it(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    channel = make_channel(world.org, kind=ChannelKind.MESSENGER, name="Kahve Evi")
    missing = errors.PermissionMissing(
        "(#200) Requires pages_messaging permission to manage the object", status=403, code=200
    )

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(errors.PermissionMissing),
        tokens.token_refusal_handled(channel),
    ):
        raise missing

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.NEEDS_REAUTH
    assert (channel.reauth_reason, channel.reauth_permission) == (
        "permission_missing",
        "pages_messaging",
    )
    words = "Meta says the pages_messaging permission was not granted or was removed."
    assert words in AuditEvent.objects.get(action=AuditAction.CHANNEL_NEEDS_REAUTH).target
    assert words in mailoutbox[0].body


def test_a_token_refusal_names_metas_reason_in_the_audit_log(world):
    channel = make_channel(world.org)

    with pytest.raises(errors.TokenInvalid), tokens.token_refusal_handled(channel):
        raise errors.TokenInvalid("Error validating access token", code=190, subcode=460)

    audit = AuditEvent.objects.get(action=AuditAction.CHANNEL_NEEDS_REAUTH)
    assert "because the password of the account that connected this channel was changed" in (
        audit.target
    )
    assert "460" not in audit.target


def test_a_policy_block_is_told_to_managers_once_while_it_lasts(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    channel = make_channel(world.org, name="Kahve Evi")
    block = errors.PolicyBlocked(
        "(#368) Temporarily blocked for policies violations", code=368, retry_after=3600
    )

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            with pytest.raises(errors.RateLimited), tokens.token_refusal_handled(channel):
                raise block

    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.sending_blocked
    assert (
        timedelta(minutes=59) < channel.sending_blocked_until - timezone.now() <= timedelta(hours=1)
    )
    assert Notice.objects.for_org(world.org).count() == 1
    assert "temporarily blocked Kahve Evi" in mailoutbox[0].body


def test_a_new_block_after_the_last_one_ended_is_told_again(world):
    channel = make_channel(world.org, sending_blocked_until=timezone.now() - timedelta(hours=2))
    block = errors.PolicyBlocked("(#368) Temporarily blocked", code=368, retry_after=600)

    assert tokens.channel_policy_block_record(channel=channel, error=block) is True
    assert tokens.channel_policy_block_record(channel=channel, error=block) is False
    assert Notice.objects.for_org(world.org).count() == 1

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Notice
from channels_meta.models import ChannelKind, ChannelStatus, MessageTemplate
from channels_meta.services.templates import template_set_status, templates_sync
from channels_meta.tasks import templates_sync_all
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(meta, world):
    number = meta.assets["whatsapp_numbers"][0]
    return make_channel(
        world.org,
        kind=ChannelKind.WHATSAPP,
        external_id=number["id"],
        waba_id=number["waba_id"],
        token=number["system_token"],
    )


def statuses(channel):
    return dict(MessageTemplate.objects.filter(channel=channel).values_list("name", "status"))


def test_sync_stores_every_template_across_pages(whatsapp):
    assert templates_sync(channel=whatsapp) == 3

    assert statuses(whatsapp) == {
        "order_update": "APPROVED",
        "hello_again": "APPROVED",
        "appointment_reminder": "PENDING",
    }
    template = MessageTemplate.objects.get(name="hello_again")
    assert (template.language, template.body_text) == ("tr", "Merhaba {{1}}, sizi özledik!")


def test_the_periodic_sync_runs_through_celery_for_every_whatsapp_channel(whatsapp, celery_eager):
    assert templates_sync_all.delay().get() == 1

    assert len(statuses(whatsapp)) == 3


def test_an_approval_found_by_sync_is_announced_once(
    meta, whatsapp, mailoutbox, django_capture_on_commit_callbacks
):
    templates_sync(channel=whatsapp)
    waba = meta.state.wabas[whatsapp.waba_id]
    next(t for t in waba.templates if t["name"] == "appointment_reminder")["status"] = "APPROVED"

    with django_capture_on_commit_callbacks(execute=True):
        templates_sync(channel=whatsapp)
        templates_sync(channel=whatsapp)

    assert statuses(whatsapp)["appointment_reminder"] == "APPROVED"
    notice = Notice.objects.for_org(whatsapp.organization).get()
    assert "appointment_reminder (en_US)" in notice.message
    assert "approved" in notice.message
    assert len(mailoutbox) == 1


def test_a_rejection_is_announced_with_meta_reason(whatsapp, django_capture_on_commit_callbacks):
    templates_sync(channel=whatsapp)

    template_set_status(
        channel=whatsapp,
        name="appointment_reminder",
        language="en_US",
        status="REJECTED",
        reason="INVALID_FORMAT",
    )

    assert "Reason: the format is not valid" in Notice.objects.get().message


def test_templates_meta_no_longer_lists_are_removed(meta, whatsapp):
    templates_sync(channel=whatsapp)
    meta.state.wabas[whatsapp.waba_id].templates.pop()

    templates_sync(channel=whatsapp)

    assert "appointment_reminder" not in statuses(whatsapp)


def test_the_templates_page_lists_them_and_managers_sync_on_demand(
    client, world, whatsapp, celery_eager, committed
):
    client.force_login(world.owner.user)
    url = reverse("channel_templates", args=[world.org.slug, whatsapp.pk])

    with committed():
        client.post(url)
    page = client.get(url).content.decode()

    assert "order_update" in page
    assert "Pending review" in page


def test_a_sync_on_demand_runs_in_the_background_once_the_request_is_done(
    client, world, whatsapp, django_capture_on_commit_callbacks
):
    client.force_login(world.owner.user)
    url = reverse("channel_templates", args=[world.org.slug, whatsapp.pk])

    with django_capture_on_commit_callbacks() as deferred:
        answer = client.post(url, follow=True)

    assert not MessageTemplate.objects.exists()
    assert len(deferred) == 1
    assert "Fetching the templates from Meta" in answer.content.decode()


def test_a_sync_on_demand_of_a_channel_to_reconnect_asks_for_the_reconnection(
    client, world, whatsapp, django_capture_on_commit_callbacks
):
    whatsapp.status = ChannelStatus.NEEDS_REAUTH
    whatsapp.save(update_fields=["status"])
    client.force_login(world.owner.user)
    url = reverse("channel_templates", args=[world.org.slug, whatsapp.pk])

    with django_capture_on_commit_callbacks() as deferred:
        answer = client.post(url, follow=True)

    assert deferred == []
    assert "reconnect it" in answer.content.decode()


def test_a_broker_that_is_down_does_not_fail_the_request(
    client, world, whatsapp, django_capture_on_commit_callbacks, broker_down
):
    client.force_login(world.owner.user)
    url = reverse("channel_templates", args=[world.org.slug, whatsapp.pk])

    with django_capture_on_commit_callbacks(execute=True) as deferred:
        answer = client.post(url)

    assert len(deferred) == 1
    assert answer.status_code == 302


def test_agents_read_templates_but_do_not_sync(client, world, whatsapp):
    client.force_login(world.agent.user)
    url = reverse("channel_templates", args=[world.org.slug, whatsapp.pk])

    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 403
    assert not MessageTemplate.objects.exists()


def test_templates_of_another_organisation_are_404(client, world, whatsapp):
    client.force_login(world.outsider.user)

    response = client.get(reverse("channel_templates", args=[world.org.slug, whatsapp.pk]))
    own_slug = client.get(reverse("channel_templates", args=[world.other_org.slug, whatsapp.pk]))

    assert (response.status_code, own_slug.status_code) == (404, 404)

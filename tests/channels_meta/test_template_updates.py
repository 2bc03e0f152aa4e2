"""Template webhooks (status, quality, category; Meta's reference examples) update the
stored templates, sync the ones Padu has not seen, and tell owners and admins what stops
or threatens a template."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Notice
from channels_meta.models import MessageTemplate, QualityRating
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, make_whatsapp
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(world):
    return make_whatsapp(world.org)


@pytest.fixture
def template(whatsapp):
    return MessageTemplate.objects.create(
        organization=whatsapp.organization,
        channel=whatsapp,
        name="welcome_template",
        language="en_US",
        status="APPROVED",
        category="UTILITY",
    )


def status_update(event: str, **value) -> dict:
    return p.waba_change(
        "message_template_status_update",
        {
            "event": event,
            "message_template_id": 806312974732579,
            "message_template_name": "welcome_template",
            "message_template_language": "en-US",
            "reason": "NONE",
            "message_template_category": "UTILITY",
            **value,
        },
    )


def test_a_pause_is_stored_with_metas_words_and_told_once(
    template, world, mailoutbox, django_capture_on_commit_callbacks
):
    paused = status_update(
        "PAUSED",
        other_info={
            "title": "FIRST_PAUSE",
            "description": "Your WhatsApp message template has been paused for 3 hours.",
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(paused)
        deliver(paused)

    template.refresh_from_db()
    assert template.status == "PAUSED"
    assert template.status_reason == (
        "FIRST_PAUSE — Your WhatsApp message template has been paused for 3 hours."
    )
    notice = Notice.objects.for_org(world.org).get()
    assert "paused WhatsApp template welcome_template (en_US) on Kahve Evi" in notice.message
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("event", "extra", "told"),
    [
        ("FLAGGED", {}, "received negative feedback"),
        ("DISABLED", {"disable_info": {"disable_date": 1751234563}}, "can no longer be sent"),
        (
            "REJECTED",
            {
                "reason": "INVALID_FORMAT",
                "rejection_info": {
                    "reason": "Parameters are placed next to each other.",
                    "recommendation": "Separate parameters with descriptive text.",
                },
            },
            "rejected by Meta",
        ),
    ],
)
def test_statuses_that_stop_a_template_are_told(template, world, event, extra, told):
    deliver(status_update(event, **extra))

    template.refresh_from_db()
    assert template.status == event
    assert told in Notice.objects.for_org(world.org).get().message


def test_a_rejection_keeps_metas_reason_and_recommendation(template, world):
    deliver(
        status_update(
            "REJECTED",
            reason="INVALID_FORMAT",
            rejection_info={
                "reason": "Parameters are placed next to each other.",
                "recommendation": "Separate parameters with descriptive text.",
            },
        )
    )

    template.refresh_from_db()
    assert template.status_reason == (
        "INVALID_FORMAT — Parameters are placed next to each other. — "
        "Separate parameters with descriptive text."
    )
    assert "Separate parameters" in Notice.objects.for_org(world.org).get().message


def test_a_disabling_keeps_its_date(template):
    deliver(status_update("DISABLED", disable_info={"disable_date": 1751234563}))

    template.refresh_from_db()
    assert template.status_reason == "disabled 2025-06-29"


def test_reinstated_means_approved_again(template):
    MessageTemplate.objects.filter(pk=template.pk).update(status="PAUSED")

    deliver(status_update("REINSTATED"))

    assert MessageTemplate.objects.get(pk=template.pk).status == "APPROVED"


@pytest.mark.parametrize("event", ["PENDING_DELETION", "ARCHIVED", "IN_APPEAL"])
def test_other_statuses_are_stored_quietly(template, event):
    deliver(status_update(event, reason=None))

    assert MessageTemplate.objects.get(pk=template.pk).status == event
    assert not Notice.objects.exists()


def test_a_status_for_a_template_not_synced_yet_syncs_the_channel(
    meta, world, celery_eager, django_capture_on_commit_callbacks
):
    number = meta.assets["whatsapp_numbers"][0]
    channel = make_channel(
        world.org,
        external_id=number["id"],
        waba_id=number["waba_id"],
        token=number["system_token"],
    )
    approved = p.waba_change(
        "message_template_status_update",
        {
            "event": "APPROVED",
            "message_template_id": 1689556908129832,
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "reason": "NONE",
            "message_template_category": "UTILITY",
        },
        entry_id=number["waba_id"],
    )

    with django_capture_on_commit_callbacks(execute=True) as deferred:
        deliver(approved)
        deliver(approved)

    syncs = [
        callback
        for callback in deferred
        if getattr(getattr(callback, "__self__", None), "task", "")
        == "channels_meta.tasks.templates_sync_channel"
    ]
    assert len(syncs) == 1
    assert MessageTemplate.objects.filter(channel=channel, name="order_update").exists()
    assert MessageTemplate.objects.filter(channel=channel).count() == 3


def test_a_quality_drop_is_told_and_a_rise_is_not(template, world):
    def quality(previous, new):
        return p.waba_change(
            "message_template_quality_update",
            {
                "previous_quality_score": previous,
                "new_quality_score": new,
                "message_template_id": 806312974732579,
                "message_template_name": "welcome_template",
                "message_template_language": "en-US",
            },
        )

    deliver(quality("UNKNOWN", "GREEN"))
    deliver(quality("GREEN", "YELLOW"))
    deliver(quality("YELLOW", "GREEN"))

    template.refresh_from_db()
    assert template.quality_score == QualityRating.GREEN
    notice = Notice.objects.for_org(world.org).get()
    assert "as medium now" in notice.message


def test_an_announced_category_change_is_shown_then_made(template, world, client):
    def category(**value):
        return p.waba_change(
            "template_category_update",
            {
                "message_template_id": 278077987957091,
                "message_template_name": "welcome_template",
                "message_template_language": "en-US",
                **value,
            },
        )

    deliver(
        category(
            new_category="UTILITY",
            correct_category="MARKETING",
            category_update_timestamp=1746169200,
        )
    )
    template.refresh_from_db()
    assert (template.category, template.category_change_to) == ("UTILITY", "MARKETING")
    assert template.category_change_at.timestamp() == 1746169200
    client.force_login(world.agent.user)
    url = reverse("channel_templates", args=[world.org.slug, template.channel.pk])
    assert "Meta changes it to Marketing on" in client.get(url).content.decode()

    deliver(category(previous_category="UTILITY", new_category="MARKETING"))

    template.refresh_from_db()
    assert (template.category, template.category_change_to) == ("MARKETING", "")
    assert template.category_change_at is None


def test_the_templates_page_shows_quality_category_and_reason(template, world, client):
    MessageTemplate.objects.filter(pk=template.pk).update(
        quality_score=QualityRating.RED, status="PAUSED", status_reason="FIRST_PAUSE"
    )
    client.force_login(world.agent.user)

    page = client.get(
        reverse("channel_templates", args=[world.org.slug, template.channel.pk])
    ).content.decode()

    assert "Utility" in page
    assert "<td>Low</td>" in page
    assert "first pause" in page
    assert "FIRST_PAUSE" not in page

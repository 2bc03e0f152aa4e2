"""phone_number_quality_update and phone_number_name_update webhooks reach the channel of
the number they name; owners and admins hear of flags, lowered limits and rejections."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Notice
from channels_meta.models import Channel, ChannelKind, QualityRating
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, make_whatsapp
from tests.channels_meta.factories import make_channel

pytestmark = pytest.mark.django_db

NUMBER = "15550783881"


@pytest.fixture
def whatsapp(world):
    return make_whatsapp(world.org)


def quality(event: str, **value) -> dict:
    return p.waba_change(
        "phone_number_quality_update", {"display_phone_number": NUMBER, "event": event, **value}
    )


def name_update(decision: str, reason=None, number: str = NUMBER) -> dict:
    return p.waba_change(
        "phone_number_name_update",
        {
            "display_phone_number": number,
            "decision": decision,
            "requested_verified_name": "Kahve Evi",
            "rejection_reason": reason,
        },
    )


def test_a_flag_lowers_the_quality_and_is_told_once(
    whatsapp, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(quality("FLAGGED", current_limit="TIER_10K"))
        deliver(quality("FLAGGED", current_limit="TIER_10K"))

    whatsapp.refresh_from_db()
    assert (whatsapp.quality_rating, whatsapp.messaging_limit) == (QualityRating.RED, "TIER_10K")
    assert (
        "flagged the quality of Kahve Evi as low" in Notice.objects.for_org(world.org).get().message
    )
    assert len(mailoutbox) == 1


def test_an_unflag_restores_the_quality_quietly(whatsapp):
    Channel.objects.filter(pk=whatsapp.pk).update(quality_rating=QualityRating.RED)

    deliver(quality("UNFLAGGED", current_limit="TIER_10K"))

    assert Channel.objects.get(pk=whatsapp.pk).quality_rating == QualityRating.GREEN
    assert not Notice.objects.exists()


def test_a_lowered_limit_is_told_in_words(whatsapp, world):
    deliver(quality("DOWNGRADE", old_limit="TIER_10K", current_limit="TIER_2K"))

    whatsapp.refresh_from_db()
    assert whatsapp.messaging_limit == "TIER_2K"
    assert whatsapp.messaging_limit_display == "2,000 new customers a day"
    assert "lowered the messaging limit of Kahve Evi to 2,000 new customers a day" in (
        Notice.objects.for_org(world.org).get().message
    )


def test_the_business_limit_is_read_before_the_retiring_current_limit(whatsapp):
    deliver(
        quality(
            "THROUGHPUT_UPGRADE",
            current_limit="TIER_10K",
            max_daily_conversations_per_business="TIER_UNLIMITED",
        )
    )

    whatsapp.refresh_from_db()
    assert whatsapp.messaging_limit == "TIER_UNLIMITED"
    assert not Notice.objects.exists()


def test_an_update_about_another_number_of_the_account_leaves_this_one_alone(whatsapp, world):
    other = make_channel(
        world.org,
        kind=ChannelKind.WHATSAPP,
        external_id="109870000000002",
        waba_id=p.WABA_ID,
        handle="+90 555 000 11 22",
    )

    deliver(quality("FLAGGED", current_limit="TIER_250"))

    assert Channel.objects.get(pk=whatsapp.pk).quality_rating == QualityRating.RED
    assert Channel.objects.get(pk=other.pk).quality_rating == QualityRating.UNKNOWN


def test_the_only_number_of_an_account_takes_updates_whatever_its_handle(world):
    channel = make_channel(
        world.org, kind=ChannelKind.WHATSAPP, external_id=p.PHONE_ID, waba_id=p.WABA_ID
    )

    deliver(quality("ONBOARDING", current_limit="TIER_250"))

    assert Channel.objects.get(pk=channel.pk).messaging_limit == "TIER_250"


def test_a_rejected_display_name_is_told_with_metas_reason(whatsapp, world):
    deliver(name_update("REJECTED", reason="NAME_FORMAT_UNACCEPTABLE"))

    whatsapp.refresh_from_db()
    assert (
        whatsapp.display_name_status,
        whatsapp.display_name_requested,
        whatsapp.display_name_rejection,
    ) == ("REJECTED", "Kahve Evi", "NAME_FORMAT_UNACCEPTABLE")
    notice = Notice.objects.for_org(world.org).get()
    assert "rejected the display name Kahve Evi" in notice.message
    assert "Reason: name format unacceptable" in notice.message


def test_an_approved_display_name_is_stored_without_a_notice(whatsapp):
    deliver(name_update("APPROVED"))

    whatsapp.refresh_from_db()
    assert (whatsapp.display_name_status, whatsapp.display_name_rejection) == ("APPROVED", "")
    assert not Notice.objects.exists()


def test_the_channels_page_shows_quality_limit_and_name_in_words(whatsapp, world, client):
    deliver(quality("FLAGGED", current_limit="TIER_1K"))
    deliver(name_update("PENDING"))
    client.force_login(world.owner.user)

    page = client.get(reverse("channels", args=[world.org.slug])).content.decode()

    assert "Quality</dt><dd>Low" in page
    assert "1,000 new customers a day" in page
    assert "pending review" in page

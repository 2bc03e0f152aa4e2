"""account_update webhooks (Meta's reference examples) set the WhatsApp channel's
standing, and owners and admins hear once about what they must act on."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditAction, AuditEvent, Notice
from channels_meta.models import AccountStatus, Channel, ChannelStatus
from channels_meta.models import WebhookEventStatus as Status
from tests.channels_meta import payloads as p
from tests.channels_meta.delivery import deliver, make_whatsapp

pytestmark = pytest.mark.django_db

PARTNER_PORTFOLIO_ID = "2949482758682047"


@pytest.fixture
def whatsapp(world):
    return make_whatsapp(world.org)


def account_update(value: dict, entry_id: str = p.WABA_ID) -> dict:
    return p.waba_change("account_update", value, entry_id=entry_id)


RESTRICTION = account_update(
    {
        "event": "ACCOUNT_RESTRICTION",
        "restriction_info": [
            {"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING", "expiration": 1641330498},
            {"restriction_type": "RESTRICTED_ADD_PHONE_NUMBER_ACTION", "expiration": 1641330498},
        ],
    }
)


def test_a_restriction_is_stored_and_told_to_owners_and_admins_once(
    whatsapp, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(RESTRICTION)
        deliver(RESTRICTION)  # Meta delivers again

    whatsapp.refresh_from_db()
    assert first.status == Status.PROCESSED
    assert whatsapp.account_status == AccountStatus.RESTRICTED
    assert [r["type"] for r in whatsapp.account_restrictions] == [
        "RESTRICTED_BIZ_INITIATED_MESSAGING",
        "RESTRICTED_ADD_PHONE_NUMBER_ACTION",
    ]
    assert whatsapp.account_restrictions[0]["expiration"].startswith("2022-01-04")
    notice = Notice.objects.for_org(world.org).get()
    assert "restricted the WhatsApp Business Account of Kahve Evi" in notice.message
    assert "cannot start conversations until 2022-01-04" in notice.message
    assert [mail.to for mail in mailoutbox] == [[world.owner.user.email]]
    assert not Notice.objects.for_org(world.other_org).exists()


def test_a_restriction_with_remediation_keeps_metas_advice(whatsapp):
    deliver(
        account_update(
            {
                "event": "ACCOUNT_RESTRICTION",
                "restriction_info": [
                    {
                        "restriction_type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
                        "expiration": 1800000000,
                        "remediation": "Review your messaging practices.",
                    }
                ],
            }
        )
    )

    whatsapp.refresh_from_db()
    assert whatsapp.account_restrictions == [
        {
            "type": "RESTRICTED_CUSTOMER_INITIATED_MESSAGING",
            "expiration": "2027-01-15T08:00:00+00:00",
            "remediation": "Review your messaging practices.",
        }
    ]
    assert "cannot answer customers" in whatsapp.account_status_detail


@pytest.mark.parametrize(
    ("ban_state", "status", "told"),
    [
        ("SCHEDULE_FOR_DISABLE", AccountStatus.SCHEDULED_FOR_DISABLE, "Meta will disable"),
        ("DISABLE", AccountStatus.DISABLED, "Meta disabled the WhatsApp Business Account"),
    ],
)
def test_a_ban_is_told_and_a_reinstatement_too(whatsapp, world, ban_state, status, told):
    deliver(
        account_update(
            {
                "event": "DISABLED_UPDATE",
                "ban_info": {"waba_ban_state": ban_state, "waba_ban_date": "April 17, 2025"},
            }
        )
    )
    whatsapp.refresh_from_db()
    assert (whatsapp.account_status, whatsapp.account_status_detail) == (status, "April 17, 2025")

    deliver(
        account_update(
            {
                "event": "DISABLED_UPDATE",
                "ban_info": {"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"},
            }
        )
    )

    whatsapp.refresh_from_db()
    assert whatsapp.account_status == AccountStatus.GOOD
    messages = list(
        Notice.objects.for_org(world.org).order_by("pk").values_list("message", flat=True)
    )
    assert told in messages[0]
    assert "in good standing again" in messages[1]


def test_a_violation_names_its_type(whatsapp, world):
    deliver(
        account_update(
            {"event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "ADULT"}}
        )
    )

    whatsapp.refresh_from_db()
    assert (whatsapp.account_status, whatsapp.account_status_detail) == (
        AccountStatus.VIOLATION,
        "ADULT",
    )
    assert "policy violation (adult)" in Notice.objects.for_org(world.org).get().message


def test_an_account_no_longer_shared_asks_for_a_reconnect(whatsapp, world):
    # Partner events come on the partner's business portfolio; the account is in waba_info.
    deliver(
        account_update(
            {
                "event": "PARTNER_REMOVED",
                "waba_info": {"waba_id": p.WABA_ID, "owner_business_id": "2329417887457253"},
                "disconnection_info": {"reason": "PRIMARY_INACTIVITY", "initiated_by": "SYSTEM"},
            },
            entry_id=PARTNER_PORTFOLIO_ID,
        )
    )

    whatsapp.refresh_from_db()
    assert whatsapp.status == ChannelStatus.NEEDS_REAUTH
    assert (whatsapp.account_status, whatsapp.account_status_detail) == (
        AccountStatus.REMOVED,
        "PRIMARY_INACTIVITY",
    )
    assert (
        "no longer shared" in AuditEvent.objects.get(action=AuditAction.CHANNEL_NEEDS_REAUTH).target
    )
    assert whatsapp.reauth_reason_display == (
        "The WhatsApp Business Account is no longer shared with Padu."
    )
    assert not Notice.objects.for_org(world.org).exists()


def test_sharing_again_puts_the_account_in_good_standing_quietly(whatsapp, world):
    Channel.objects.filter(pk=whatsapp.pk).update(account_status=AccountStatus.REMOVED)

    deliver(
        account_update(
            {
                "event": "PARTNER_ADDED",
                "waba_info": {"waba_id": p.WABA_ID, "owner_business_id": "2329417887457253"},
            },
            entry_id=PARTNER_PORTFOLIO_ID,
        )
    )

    assert Channel.objects.get(pk=whatsapp.pk).account_status == AccountStatus.GOOD
    assert not Notice.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        {"event": "BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE", "country": "IN"},
        {
            "event": "AUTH_INTL_PRICE_ELIGIBILITY_UPDATE",
            "auth_international_rate_eligibility": {"start_time": 1748780624},
        },
        {
            "event": "VOLUME_BASED_PRICING_TIER_UPDATE",
            "volume_tier_info": {"tier": "25000001:50000000", "pricing_category": "UTILITY"},
        },
    ],
)
def test_updates_that_need_nobody_change_nothing(whatsapp, value):
    event = deliver(account_update(value))

    whatsapp.refresh_from_db()
    assert event.status == Status.PROCESSED
    assert whatsapp.account_status == AccountStatus.UNKNOWN
    assert not Notice.objects.exists()


def test_an_update_for_an_account_not_connected_waits_for_it(world):
    event = deliver(RESTRICTION)

    assert event.status == Status.UNROUTABLE
    assert event.unroutable_keys == f" whatsapp:{p.WABA_ID} "


def test_the_channels_page_tells_the_standing_in_words(whatsapp, world, client):
    deliver(RESTRICTION)
    client.force_login(world.agent.user)

    page = client.get(reverse("channels", args=[world.org.slug])).content.decode()

    assert "Restricted" in page
    assert "it cannot start conversations until 2022-01-04" in page

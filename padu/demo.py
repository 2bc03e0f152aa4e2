"""The demo organisation: its owner, labels and saved replies, and one channel of each
kind connected to the Meta simulator the way a person connects them (Facebook Login for
the Page and its Instagram account, a system-user token for the WhatsApp number), with
the number's templates synced. Every row is made by the services a person's actions
call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from django.conf import settings
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from accounts import onboarding
from accounts.models import Membership, Organization, Role, User
from channels_meta import oauth
from channels_meta.connected import ChannelError
from channels_meta.models import Channel, ChannelKind, ChannelStatus
from channels_meta.services import channels, templates
from inbox.models import Label, SavedReply
from inbox.services import library

DEMO_EMAIL = "owner@demo.padu.example"
DEMO_PASSWORD = "padu-demo-2026"  # noqa: S105 - printed for the person running the demo
DEMO_ORGANIZATION = "Demo Coffee Co."

# The businesses the simulator plays for the demo (its `--state` file). Kahve Evi is the
# demo organisation's own; Bloom Flowers and Studio Noor are there to rehearse connecting.
PAGE_ID = "104000000000001"
INSTAGRAM_ID = "17841400000000001"
WABA_ID = "200000000000001"
NUMBER_ID = "300000000000001"
# A system-user token the simulated Meta knows for the number; not a secret of anyone's.
WHATSAPP_TOKEN = "EAAGpaduDemoSystemUserTokenForKahveEviWhatsApp"  # noqa: S105
BUSINESSES = {
    "users": [
        {
            "id": "100000000000101",
            "name": "Demo Business Owner",
            "pages": [
                {
                    "id": PAGE_ID,
                    "name": "Kahve Evi",
                    "instagram": {"id": INSTAGRAM_ID, "username": "kahve.evi", "name": "Kahve Evi"},
                },
                {"id": "104000000000002", "name": "Bloom Flowers"},
            ],
            "instagram": [
                {"id": "17841400000000002", "username": "studio.noor", "name": "Studio Noor"}
            ],
            "wabas": [
                {
                    "id": WABA_ID,
                    "name": "Kahve Evi WhatsApp",
                    "phone_numbers": [
                        {
                            "id": NUMBER_ID,
                            "display_phone_number": "+90 555 010 0001",
                            "verified_name": "Kahve Evi",
                        }
                    ],
                },
                {
                    "id": "200000000000002",
                    "name": "Bloom Flowers WhatsApp",
                    "phone_numbers": [
                        {
                            "id": "300000000000002",
                            "display_phone_number": "+1 555 010 0002",
                            "verified_name": "Bloom Flowers",
                        }
                    ],
                },
            ],
        }
    ],
    "system_tokens": [
        {
            "token": WHATSAPP_TOKEN,
            "subject_id": NUMBER_ID,
            "scopes": ["whatsapp_business_management", "whatsapp_business_messaging"],
        }
    ],
}
LABELS = [
    ("VIP", Label.Colour.PURPLE),
    ("Order problem", Label.Colour.RED),
    ("Wholesale", Label.Colour.TEAL),
]
SAVED_REPLIES = [
    ("hours", "Hi {first_name}! We are open every day from 8:00 to 20:00."),
    ("delivery", "We deliver within 5 km, every day but Sunday. Delivery is free above 300 TL."),
    ("thanks", "Thank you, {first_name}! See you soon ☕"),
]


def organization_seed() -> Membership:
    """The demo organisation and its owner, made on the first run only (the owner's
    password is set when the account is created and never again), with a few labels and
    saved replies while it has none."""
    owner = User.objects.with_email(DEMO_EMAIL).first()
    membership = (
        Membership.objects.filter(user=owner, role=Role.OWNER).select_related("organization")
        if owner
        else Membership.objects.none()
    ).first()
    if membership is None:
        organization, provisioned = onboarding.organization_create_by_operator(
            name=DEMO_ORGANIZATION, owner_email=DEMO_EMAIL, password=DEMO_PASSWORD
        )
        membership = provisioned.membership
        owner = provisioned.user
    if not owner.full_name:
        owner.full_name = "Demo Owner"
        onboarding.user_update_profile(user=owner, changed_fields=["full_name"])
    organization = membership.organization
    if not Label.objects.for_org(organization).exists():
        for name, colour in LABELS:
            library.label_create(membership=membership, name=name, colour=colour)
    if not SavedReply.objects.for_org(organization).exists():
        for shortcut, text in SAVED_REPLIES:
            library.saved_reply_create(membership=membership, shortcut=shortcut, text=text)
    return membership


@dataclass
class Connected:
    channels: list[Channel]
    problems: list[str]
    templates: int = 0


def _login_code(dialog: httpx.Client, *, redirect_uri: str) -> str:
    """What the owner's browser does in Meta's Facebook Login dialog: share the Page
    and come back with a code."""
    response = dialog.post(
        "/dialog/confirm",
        data={
            "flow": "facebook",
            "asset": PAGE_ID,
            "redirect_uri": redirect_uri,
            "state": secrets.token_urlsafe(16),
            "scope": ",".join(oauth.FACEBOOK_SCOPES),
            "decision": "allow",
        },
    )
    location = response.headers.get("location", "")
    codes = parse_qs(urlsplit(location).query).get("code")
    if response.status_code != 302 or not codes:
        raise ChannelError(f"The simulator's login dialog answered {response.status_code}.")
    return codes[0]


@sensitive_variables()
def channels_connect(*, membership: Membership, dialog: httpx.Client) -> Connected:
    """Connect Kahve Evi's Page, Instagram account and WhatsApp number to the demo
    organisation, those it does not hold active yet, and sync the number's templates.
    `dialog` reaches the simulator, where the owner's browser would go."""
    organization: Organization = membership.organization
    active = set(
        Channel.objects.for_org(organization)
        .filter(status=ChannelStatus.ACTIVE)
        .values_list("external_id", flat=True)
    )
    accounts = []
    if not {PAGE_ID, INSTAGRAM_ID} <= active:
        redirect_uri = settings.SITE_URL + reverse("meta_oauth_callback")
        accounts += oauth.accounts_from_facebook_login(
            code=_login_code(dialog, redirect_uri=redirect_uri), redirect_uri=redirect_uri
        )
    if NUMBER_ID not in active:
        accounts.append(
            oauth.account_from_token(
                kind=ChannelKind.WHATSAPP,
                external_id=NUMBER_ID,
                waba_id=WABA_ID,
                token=WHATSAPP_TOKEN,
            )
        )
    if not accounts:
        return Connected(channels=[], problems=[])
    connection = channels.channels_connect(
        organization=organization, accounts=accounts, connected_by=membership.user
    )
    synced = sum(
        templates.templates_sync(channel=channel)
        for channel in connection.channels
        if channel.kind == ChannelKind.WHATSAPP
    )
    return Connected(channels=connection.channels, problems=connection.problems, templates=synced)

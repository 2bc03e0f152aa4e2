"""What the simulated Meta knows: its app, business accounts, tokens and conversations.

Plain Python, importing nothing of Padu: the simulator stands where Meta stands.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from dataclasses import dataclass, field

# The fields a Page's subscription may name (its webhooks: Messenger's names).
PAGE_WEBHOOK_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "message_deliveries",
        "message_reads",
        "message_reactions",
        "message_edits",
        "messaging_postbacks",
        "messaging_referrals",
        "messaging_optins",
        "messaging_optouts",
        "messaging_handovers",
        "messaging_policy_enforcement",
        "messaging_account_linking",
        "messaging_feedback",
        "standby",
        "feed",
    }
)
# The fields an Instagram Login account's subscription may name (Instagram's names).
INSTAGRAM_WEBHOOK_FIELDS = frozenset(
    {
        "messages",
        "message_echoes",
        "message_reactions",
        "message_edit",
        "messaging_seen",
        "messaging_postbacks",
        "messaging_referral",
        "messaging_optins",
        "messaging_handover",
        "messaging_policy_enforcement",
        "response_feedback",
        "standby",
        "comments",
        "live_comments",
        "mentions",
        "story_insights",
    }
)
# What the operator ticked in the App Dashboard's Webhooks settings, per object: a
# Page-linked Instagram account and a WhatsApp Business Account get these fields, since
# their own subscription names none.
DASHBOARD_FIELDS = {
    "instagram": frozenset(
        {"messages", "message_reactions", "messaging_seen", "messaging_postbacks", "comments"}
    ),
    "whatsapp_business_account": frozenset(
        {"messages", "account_update", "message_template_status_update"}
    ),
}

SHORT_LIVED_SECONDS = 2 * 60 * 60
LONG_LIVED_SECONDS = 5183944
DAY = 24 * 60 * 60


@dataclass
class Token:
    value: str
    kind: str  # user | page | system | instagram
    user_id: str  # the app-scoped id of the Meta user it acts for ("" for system users)
    subject_id: str = ""  # the Page or Instagram account a page/instagram token is for
    scopes: list[str] = field(default_factory=list)
    issued_at: float = field(default_factory=time.time)
    expires_at: float | None = None
    revoked: bool = False
    granted: list[str] = field(default_factory=list)  # assets picked in the dialog


@dataclass
class Page:
    id: str
    name: str
    instagram_id: str = ""


@dataclass
class InstagramAccount:
    id: str
    username: str
    name: str


@dataclass
class PhoneNumber:
    id: str
    display_phone_number: str
    verified_name: str
    waba_id: str
    registered: bool = True
    pin: str = ""  # two-step verification PIN, once one is set


@dataclass
class Waba:
    id: str
    name: str
    templates: list[dict] = field(default_factory=list)


@dataclass
class MetaUser:
    id: str
    name: str
    page_ids: list[str] = field(default_factory=list)
    instagram_ids: list[str] = field(default_factory=list)
    waba_ids: list[str] = field(default_factory=list)


@dataclass
class Comment:
    id: str
    instagram_id: str
    from_id: str
    username: str
    text: str
    media_id: str
    created_at: float
    private_replied: bool = False


@dataclass
class CustomerProfile:
    """What a customer changed about their profile from the one they are given (see
    profiles.py): their name, username or picture, or that Meta shows none of it."""

    id: str
    name: str = ""
    username: str = ""
    picture_url: str = ""
    available: bool = True


@dataclass
class SentMessage:
    id: str
    channel_kind: str  # messenger | instagram | whatsapp
    business_id: str
    recipient_id: str
    body: dict
    sent_at: float
    path: str = ""  # the Graph path it was posted to, without the version


DEFAULT_TEMPLATES = [
    {
        "name": "order_update",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Your order {{1}} is on its way."}],
    },
    {
        "name": "hello_again",
        "language": "tr",
        "status": "APPROVED",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Merhaba {{1}}, sizi özledik!"}],
    },
    {
        "name": "appointment_reminder",
        "language": "en_US",
        "status": "PENDING",
        "category": "UTILITY",
        "components": [{"type": "BODY", "text": "See you on {{1}}."}],
    },
]


class SimulatorState:
    """Everything the simulator remembers, guarded by one lock (the web server and the
    traffic and webhook threads share it)."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        instagram_app_id: str = "",
        instagram_app_secret: str = "",
        seed: int | None = None,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        # The Instagram product of the same Meta app has an id and secret of its own, used
        # by Instagram Login (the dialog, the code exchange, long-lived tokens) and to
        # sign the webhooks of accounts that subscribed through it.
        self.instagram_app_id = instagram_app_id or app_id
        self.instagram_app_secret = instagram_app_secret or app_secret
        self.seed = seed
        # How many times this state was saved and loaded again (see persistence.py).
        self.generation = 0
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.clock = time.time
        self.users: dict[str, MetaUser] = {}
        self.pages: dict[str, Page] = {}
        self.instagram_accounts: dict[str, InstagramAccount] = {}
        self.wabas: dict[str, Waba] = {}
        self.phone_numbers: dict[str, PhoneNumber] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict] = {}
        self.subscriptions: dict[str, set[str]] = {}
        # Instagram accounts subscribed with Instagram Login (on graph.instagram.com);
        # the others get their webhooks through their Page's subscription.
        self.instagram_login_ids: set[str] = set()
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.comments: dict[str, Comment] = {}
        # Customers' own profile details, by customer id (the others have made-up ones).
        self.profiles: dict[str, CustomerProfile] = {}
        # Files customers sent (simulator.media.Media), by media id.
        self.media: dict = {}
        self.sent: list[SentMessage] = []
        self.calls: dict[str, list[float]] = {}
        # What customers sent, in order: (kind, business id, customer id, message id).
        self.inbound_log: list[tuple[str, str, str, str]] = []
        # The customers who keep writing in generated traffic: (kind, business id,
        # customer id), kept so that they are the same people after a restart.
        self.regulars: list[tuple[str, str, str]] = []
        self._last_event_at = 0.0

    def event_time(self) -> float:
        """Now, but always at least a millisecond after the previous customer event, so
        every message has its own timestamp, as Meta's do."""
        self._last_event_at = max(self.clock(), self._last_event_at + 0.001)
        return self._last_event_at

    # Identifiers and tokens

    def new_id(self, digits: int = 15) -> str:
        return str(self.random.randrange(10 ** (digits - 1), 10**digits))

    def new_token(self, kind: str, user_id: str, **fields) -> Token:
        prefix = "IGAA" if kind == "instagram" else "EAAG"
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        body = "".join(self.random.choice(alphabet) for _ in range(40))
        token = Token(value=prefix + body, kind=kind, user_id=user_id, **fields)
        token.issued_at = self.clock()
        self.tokens[token.value] = token
        return token

    def new_code(self, **grant) -> str:
        code = "AQ" + secrets.token_urlsafe(24)
        self.codes[code] = {**grant, "issued_at": self.clock()}
        return code

    def token_problem(self, value: str) -> tuple[int, str] | None:
        """Why `value` cannot be used now, as (subcode, message), or None."""
        token = self.tokens.get(value)
        if token is None:
            return (0, "Invalid OAuth access token - Cannot parse access token")
        if token.revoked:
            return (458, "Error validating access token: The user has not authorized application.")
        if token.expires_at is not None and token.expires_at <= self.clock():
            return (463, "Error validating access token: Session has expired.")
        return None

    def revoke_user(self, user_id: str) -> None:
        """The person removed the app: every token made for them stops working."""
        for token in self.tokens.values():
            if token.user_id == user_id and token.kind != "system":
                token.revoked = True

    # Seeding

    def seed_default(self) -> None:
        """A business owner with two Pages (one with Instagram), an Instagram Login
        account, and a WhatsApp Business Account with two numbers."""
        self.load(
            {
                "users": [
                    {
                        "id": "10" + self.new_id(13),
                        "name": "Sim Business Owner",
                        "pages": [
                            {
                                "id": "1" + self.new_id(14),
                                "name": "Kahve Evi",
                                "instagram": {
                                    "id": "178" + self.new_id(14),
                                    "username": "kahve.evi",
                                    "name": "Kahve Evi",
                                },
                            },
                            {"id": "1" + self.new_id(14), "name": "Bloom Flowers"},
                        ],
                        "instagram": [
                            {
                                "id": "178" + self.new_id(14),
                                "username": "studio.noor",
                                "name": "Studio Noor",
                            },
                        ],
                        "wabas": [
                            {
                                "id": "2" + self.new_id(14),
                                "name": "Kahve Evi WhatsApp",
                                "phone_numbers": [
                                    {
                                        "id": "3" + self.new_id(14),
                                        "display_phone_number": "+90 555 010 0001",
                                        "verified_name": "Kahve Evi",
                                    },
                                    {
                                        "id": "3" + self.new_id(14),
                                        "display_phone_number": "+1 555 010 0002",
                                        "verified_name": "Bloom Flowers",
                                    },
                                ],
                            }
                        ],
                    }
                ]
            }
        )

    def load(self, data: dict) -> None:
        """Add the business accounts described by `data` (the seed file's format; see
        the README) and give every Page, account and WhatsApp number a system-user token."""
        with self.lock:
            for user_data in data.get("users", []):
                user = MetaUser(id=str(user_data["id"]), name=user_data.get("name", "Meta user"))
                self.users[user.id] = user
                for page_data in user_data.get("pages", []):
                    page = Page(id=str(page_data["id"]), name=page_data["name"])
                    if "instagram" in page_data:
                        account = self._add_instagram(page_data["instagram"])
                        page.instagram_id = account.id
                    self.pages[page.id] = page
                    user.page_ids.append(page.id)
                for account_data in user_data.get("instagram", []):
                    user.instagram_ids.append(self._add_instagram(account_data).id)
                for waba_data in user_data.get("wabas", []):
                    waba = Waba(
                        id=str(waba_data["id"]),
                        name=waba_data.get("name", "WhatsApp Business Account"),
                        templates=[dict(t) for t in waba_data.get("templates", DEFAULT_TEMPLATES)],
                    )
                    self.wabas[waba.id] = waba
                    user.waba_ids.append(waba.id)
                    for number in waba_data.get("phone_numbers", []):
                        phone = PhoneNumber(
                            id=str(number["id"]),
                            display_phone_number=number["display_phone_number"],
                            verified_name=number.get("verified_name", waba.name),
                            waba_id=waba.id,
                        )
                        self.phone_numbers[phone.id] = phone
            for token_data in data.get("system_tokens", []):
                token = Token(
                    value=token_data["token"],
                    kind="system",
                    user_id="",
                    subject_id=str(token_data.get("subject_id", "")),
                    scopes=token_data.get("scopes", []),
                    issued_at=self.clock(),
                )
                self.tokens[token.value] = token

    def _add_instagram(self, data: dict) -> InstagramAccount:
        account = InstagramAccount(
            id=str(data["id"]), username=data["username"], name=data.get("name", data["username"])
        )
        self.instagram_accounts[account.id] = account
        return account

    def system_token_for(self, subject_id: str) -> str:
        """A non-expiring system-user token for one business asset (made on first ask)."""
        with self.lock:
            for token in self.tokens.values():
                if token.kind == "system" and token.subject_id == subject_id and not token.revoked:
                    return token.value
            return self.new_token("system", "", subject_id=subject_id).value

    def assets_of(self, token: Token) -> set[str]:
        """The ids (Pages, Instagram accounts, WhatsApp accounts and numbers) a token may use."""
        if token.kind in {"system", "page", "instagram"}:
            roots = {token.subject_id}
        else:
            user = self.users.get(token.user_id)
            owned = {*user.page_ids, *user.instagram_ids, *user.waba_ids} if user else set()
            roots = owned & set(token.granted) if token.granted else owned
        assets = set(roots)
        for asset in roots:
            if asset in self.pages and self.pages[asset].instagram_id:
                assets.add(self.pages[asset].instagram_id)
            if asset in self.phone_numbers:
                assets.add(self.phone_numbers[asset].waba_id)
            if asset in self.wabas:
                assets.update(p.id for p in self.phone_numbers.values() if p.waba_id == asset)
        return assets

    def describe(self) -> dict:
        """The business assets and their system-user tokens, for operators' rehearsals."""
        with self.lock:
            return {
                "pages": [
                    {
                        "id": page.id,
                        "name": page.name,
                        "instagram_id": page.instagram_id,
                        "system_token": self.system_token_for(page.id),
                    }
                    for page in self.pages.values()
                ],
                "instagram_accounts": [
                    {
                        "id": account.id,
                        "username": account.username,
                        "system_token": self.system_token_for(account.id),
                    }
                    for account in self.instagram_accounts.values()
                ],
                "whatsapp_numbers": [
                    {
                        "id": phone.id,
                        "waba_id": phone.waba_id,
                        "display_phone_number": phone.display_phone_number,
                        "system_token": self.system_token_for(phone.id),
                    }
                    for phone in self.phone_numbers.values()
                ],
            }

"""Messenger Platform webhooks (`object: page`), as Meta's Messenger Platform webhook
reference documents them (developers.facebook.com/docs/messenger-platform/webhooks and
reference/webhook-events/<event>), with the ids of the test channels."""

from __future__ import annotations

from tests.channels_meta.payloads import IG_ID, PAGE_ID

PSID = "6783621288385631"
USER_REF = "ref-8e1c4f0b-plugin"
IG = IG_ID
T_MS = 1_739_321_024_000


def delivery(*items: dict, object_type: str = "page", entry_id: str = PAGE_ID) -> dict:
    return {
        "object": object_type,
        "entry": [{"id": entry_id, "time": T_MS + 500, "messaging": list(items)}],
    }


def item(sender: dict | None = None, entry_id: str = PAGE_ID, **event) -> dict:
    return {
        "sender": sender or {"id": PSID},
        "recipient": {"id": entry_id},
        "timestamp": T_MS,
        **event,
    }


def text(mid: str, body: str = "Hello", entry_id: str = PAGE_ID, **more) -> dict:
    return item(entry_id=entry_id, message={"mid": mid, "text": body, **more})


def attachments(mid: str, *found: dict, entry_id: str = PAGE_ID) -> dict:
    return item(entry_id=entry_id, message={"mid": mid, "attachments": list(found)})


def like_sticker(mid: str = "m_like") -> dict:
    return attachments(
        mid,
        {
            "type": "image",
            "payload": {
                "url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_n.png",
                "sticker_id": 369239263222822,
            },
        },
    )


def location(mid: str = "m_location") -> dict:
    return attachments(
        mid,
        {
            "type": "location",
            "title": "Galata Tower",
            "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com%2Fmaps",
            "payload": {"coordinates": {"lat": 41.0256, "long": 28.9741}},
        },
    )


def fallback(mid: str = "m_fallback") -> dict:
    return attachments(
        mid,
        {
            "type": "fallback",
            "title": "Our summer collection",
            "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example%2Fsummer",
            "payload": None,
        },
    )


def reply(mid: str, to_mid: str) -> dict:
    return text(mid, "This one", reply_to={"mid": to_mid})


def ad_referral_event() -> dict:
    # A customer already in a thread taps an ad again: a `messaging_referrals` event.
    return item(
        referral={
            "ref": "summer-sale",
            "ad_id": "23851234567890123",
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ads_context_data": {
                "ad_title": "Summer sale: 30% off",
                "photo_url": "https://scontent.xx.fbcdn.net/v/ad.jpg",
                "post_id": "106700000000001_123456789",
            },
        }
    )


def get_started_from_a_link() -> dict:
    # A new customer taps "Get Started" after following an m.me link with a ref.
    return item(
        postback={
            "mid": "m_getstarted",
            "title": "Get Started",
            "payload": "GET_STARTED",
            "referral": {"ref": "instagram-bio", "source": "SHORTLINK", "type": "OPEN_THREAD"},
        }
    )


def from_user_ref(mid: str, body: str) -> dict:
    # A chat-plugin guest: Meta names them by a user_ref only.
    return item(sender={"user_ref": USER_REF}, message={"mid": mid, "text": body})


def first_message_after_user_ref(mid: str) -> dict:
    # Their first message after the business wrote to the user_ref carries their PSID
    # and names the user_ref in `prior_message`.
    return item(
        message={"mid": mid, "text": "Thanks!"},
        prior_message={"source": "customer_chat_plugin", "identifier": USER_REF},
    )


def edit(mid: str, body: str, num_edit: int = 1, entry_id: str = PAGE_ID) -> dict:
    return item(entry_id=entry_id, message_edit={"mid": mid, "text": body, "num_edit": num_edit})


def echo(mid: str, body: str, app_id: str) -> dict:
    return {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": PSID},
        "timestamp": T_MS,
        "message": {
            "mid": mid,
            "text": body,
            "is_echo": True,
            "app_id": app_id,
            "metadata": "note",
        },
    }


def reaction(mid: str, emoji: str = "\u2764\ufe0f") -> dict:
    return item(reaction={"mid": mid, "action": "react", "reaction": "love", "emoji": emoji})

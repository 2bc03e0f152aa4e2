"""Instagram webhooks (`object: instagram`), as Meta's Instagram Platform webhook
reference documents them (developers.facebook.com/docs/instagram-platform/webhooks,
.../instagram-api-with-instagram-login/messaging-api and the comments, live_comments and
mentions fields), with the ids of the test channels."""

from __future__ import annotations

from tests.channels_meta.payloads import IG_ID

IGSID = "1097012345678901"
T_MS = 1_739_321_024_000


def messaging(*items: dict) -> dict:
    return {
        "object": "instagram",
        "entry": [{"id": IG_ID, "time": T_MS + 500, "messaging": list(items)}],
    }


def changes(field: str, value: dict) -> dict:
    return {
        "object": "instagram",
        "entry": [{"id": IG_ID, "time": 1739321024, "changes": [{"field": field, "value": value}]}],
    }


def dm(mid: str, **message) -> dict:
    return {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ID},
        "timestamp": T_MS,
        "message": {"mid": mid, **message},
    }


def story_mention() -> dict:
    return messaging(
        dm(
            "aWdfstorymention",
            attachments=[
                {
                    "type": "story_mention",
                    "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"},
                }
            ],
        )
    )


def shared_post() -> dict:
    return messaging(
        dm(
            "aWdfshare",
            attachments=[
                {
                    "type": "share",
                    "payload": {"url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2"},
                }
            ],
        )
    )


def shared_reel() -> dict:
    return messaging(
        dm(
            "aWdfreel",
            attachments=[
                {
                    "type": "ig_reel",
                    "payload": {
                        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=3",
                        "title": "Our new spring menu \U0001f338",
                        "reel_video_id": "18012345678901234",
                    },
                }
            ],
        )
    )


def ig_me_referral() -> dict:
    # A customer opens the conversation through an ig.me link with a ref.
    return messaging(
        {
            "sender": {"id": IGSID},
            "recipient": {"id": IG_ID},
            "timestamp": T_MS,
            "referral": {"ref": "bio-link", "source": "IGME", "type": "OPEN_THREAD"},
        }
    )


def unsupported() -> dict:
    return messaging(dm("aWdfunsupported", is_unsupported=True))


def live_comment() -> dict:
    return changes(
        "live_comments",
        {
            "from": {"id": "1097054321", "username": "live_viewer"},
            "media": {"id": "18023456789012345", "media_product_type": "LIVE"},
            "id": "17865432109876543",
            "text": "How much is the green one?",
        },
    )


def mention_in_comment() -> dict:
    return changes("mentions", {"media_id": "17887498072083520", "comment_id": "17894227972186120"})


def mention_in_caption() -> dict:
    return changes("mentions", {"media_id": "17887498072083521"})

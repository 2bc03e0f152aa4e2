"""Webhook subscriptions and the grants behind them."""

from __future__ import annotations

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import app_token, host, node_path
from channels_meta.graph.client import client

# Webhook fields Padu subscribes accounts to (META.md). A Page names its fields; so does an
# Instagram Login account (on graph.instagram.com; Instagram's names differ from the
# Page's: messaging_seen, messaging_referral, message_edit). A Page-linked Instagram
# account has no subscription of its own: its webhooks come through its Page's, with the
# Instagram fields chosen in the App Dashboard. A WhatsApp Business Account's subscription
# takes no fields: those are chosen in the App Dashboard too.
PAGE_FIELDS = ",".join(
    (
        "messages",
        "message_echoes",
        "message_deliveries",
        "message_reads",
        "message_reactions",
        "message_edits",
        "messaging_postbacks",
        "messaging_referrals",
        "messaging_optins",
        # Messages of threads another app owns (Meta's handover protocol).
        "standby",
    )
)
INSTAGRAM_FIELDS = ",".join(
    (
        "messages",
        "message_reactions",
        "message_edit",
        "messaging_seen",
        "messaging_postbacks",
        "messaging_referral",
        "comments",
        "live_comments",
        "mentions",
    )
)
# What `app_subscribe` can subscribe: a Page (Messenger, and the Instagram accounts linked
# to it), an Instagram Login account, a WhatsApp Business Account.
SUBSCRIBERS = ("page", "instagram_login", "waba")


@sensitive_variables("token")
def app_subscribe(*, subscriber: str, subscriber_id: str, token: str) -> None:
    """Ask Meta to send webhooks to Padu for a Page (`POST /{page-id}/subscribed_apps`
    with the Page fields), an Instagram Login account (the same edge on
    graph.instagram.com, with the Instagram fields) or a WhatsApp Business Account (no
    fields). There is no such edge for a Page-linked Instagram account: subscribe its Page."""
    path = node_path(subscriber_id, "subscribed_apps")
    if subscriber == "waba":
        client().post(path, token=token)
    elif subscriber == "page":
        client().post(path, token=token, params={"subscribed_fields": PAGE_FIELDS})
    elif subscriber == "instagram_login":
        client().post(
            path,
            token=token,
            host=host(instagram_login=True),
            params={"subscribed_fields": INSTAGRAM_FIELDS},
        )
    else:
        raise ValueError(f"Unknown webhook subscriber {subscriber!r}.")


@sensitive_variables("token")
def app_unsubscribe(*, subscriber_id: str, token: str, instagram_login: bool = False) -> None:
    """Stop the webhooks of a Page, a WhatsApp Business Account or (`instagram_login`) an
    Instagram Login account (see `app_subscribe`)."""
    client().delete(
        node_path(subscriber_id, "subscribed_apps"), token=token, host=host(instagram_login)
    )


def grant_revoke(*, meta_user_id: str) -> None:
    """Remove the app from a person's Facebook account (everything they granted it)."""
    client().delete(
        node_path(meta_user_id, "permissions"),
        token=app_token(),
        secrets=(settings.META_APP_SECRET,),
    )

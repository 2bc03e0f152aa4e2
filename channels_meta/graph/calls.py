"""One typed function per Meta operation Padu performs.

This is the only place that builds Graph paths, chooses Meta's host
(graph.facebook.com, graph.instagram.com for Instagram Login tokens, api.instagram.com
for Instagram's code exchange) and builds the app token. Every send first takes a token
from the outbound rate limiter; a wait longer than a send may block is RateLimited, just
as Meta's own rate limit is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from channels_meta.graph import ratelimit
from channels_meta.graph.client import Downloaded, client
from channels_meta.graph.errors import (
    GraphError,
    PermanentError,
    PermissionMissing,
    ProfileUnavailable,
    RateLimited,
    UnsafeRequest,
)
from channels_meta.graph.hosts import media_url_allowed as media_url_allowed
from channels_meta.graph.ids import node_id, picture_url

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
PAGE_LIST_FIELDS = "id,name,access_token,instagram_business_account{id,username}"
TEMPLATE_FIELDS = "id,name,language,status,category,quality_score,components"
# What a person answering a customer needs of their profile (Meta's User Profile APIs):
# Messenger gives a name and a picture, Instagram also the username.
USER_PROFILE_FIELDS = {
    "messenger": "name,first_name,last_name,profile_pic",
    "instagram": "name,username,profile_pic",
}
# Meta's answers when it shows an app no profile of a person: Instagram's "User consent is
# required to access user profile" (230; the person has not written to the account),
# Messenger's "No profile available for this user" (100/2018218) and "Insufficient
# permission to access user profile" (100/2018247), an object it will not load (100/33:
# unknown, or the person blocked the business) and a person not available (551).
PROFILE_WITHHELD_CODES = frozenset({230, 551})
PROFILE_WITHHELD_SUBCODES = frozenset({33, 2018218, 2018247})
# Instagram usernames: letters, digits, periods and underscores, at most 30.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9._]{1,30}")
NAME_MAX_LENGTH = 200
# Meta's answer when it leaves out a long-lived Instagram token's lifetime (60 days).
INSTAGRAM_TOKEN_SECONDS = 5183944


@dataclass(frozen=True)
class IssuedToken:
    """A token Meta issued, with what it said about it."""

    token: str = field(repr=False)
    expires_in: int | None = None
    user_id: object = None


@dataclass(frozen=True)
class Sent:
    """Meta's receipt for a message it accepted."""

    message_id: str
    recipient_id: str


@dataclass(frozen=True)
class UserProfile:
    """What Meta shows of a customer: each part "" when Meta gave none Padu may keep
    (`picture_url` only on Meta's content hosts, see `ids.picture_url`)."""

    name: str = ""
    username: str = ""
    picture_url: str = ""


def _host(instagram_login: bool) -> str:
    """Instagram Login tokens work on graph.instagram.com; Page tokens (Messenger, and
    Instagram accounts linked to a Page) on graph.facebook.com."""
    return "instagram" if instagram_login else "facebook"


def _path(value: object, *edges: str) -> str:
    """The Graph path of a node, or of one of its edges: `_path("123", "messages")`."""
    return "/".join([node_id(value), *edges])


@sensitive_variables()
def _app_token() -> str:
    """The app access token (`app id|app secret`), for calls Padu makes as the app."""
    return f"{settings.META_APP_ID}|{settings.META_APP_SECRET}"


def _take(*buckets: tuple[str, str]) -> None:
    """One token from each `(limit, subject)` bucket, or RateLimited with the wait."""
    for limit, subject in buckets:
        try:
            ratelimit.acquire(limit, subject)
        except ratelimit.Throttled as throttled:
            raise RateLimited(str(throttled), retry_after=throttled.retry_after) from None


def _expires_in(answer: dict[str, Any]) -> int | None:
    seconds = answer.get("expires_in")
    return int(seconds) if seconds else None


# Connecting: codes, tokens and the accounts they reach.


@sensitive_variables()
def oauth_code_exchange(*, code: str, redirect_uri: str) -> str:
    """The token Meta grants for a Facebook Login or WhatsApp Embedded Signup code. A code
    the JavaScript SDK got (Embedded Signup's popup) was issued without a redirect URI,
    and is exchanged without one (`redirect_uri=""`)."""
    params = {
        "client_id": settings.META_APP_ID,
        "client_secret": settings.META_APP_SECRET,
        "code": code,
    }
    if redirect_uri:
        params["redirect_uri"] = redirect_uri
    return client().get(
        "oauth/access_token", params=params, secrets=(settings.META_APP_SECRET, code)
    )["access_token"]


@sensitive_variables()
def user_token_extend(*, token: str) -> str:
    """A long-lived (about 60 days) user token for a short-lived Facebook Login one."""
    return client().get(
        "oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": settings.META_APP_ID,
            "client_secret": settings.META_APP_SECRET,
            "fb_exchange_token": token,
        },
        secrets=(settings.META_APP_SECRET, token),
    )["access_token"]


@sensitive_variables()
def instagram_code_exchange(*, code: str, redirect_uri: str) -> IssuedToken:
    """The short-lived token (and the user it is for) of an Instagram Login code, asked
    as the Instagram app (its own id and secret, not the Facebook app's)."""
    answer = client().post(
        "oauth/access_token",
        host="instagram_api",
        versioned=False,
        form={
            "client_id": settings.META_INSTAGRAM_APP_ID,
            "client_secret": settings.META_INSTAGRAM_APP_SECRET,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        },
        secrets=(settings.META_INSTAGRAM_APP_SECRET, code),
    )
    # Meta has answered both {"data": [{...}]} and a flat object here.
    first = (answer.get("data") or [answer])[0]
    return IssuedToken(token=first["access_token"], user_id=first.get("user_id"))


@sensitive_variables()
def instagram_token_extend(*, token: str) -> IssuedToken:
    """A long-lived (60-day) Instagram Login token for a short-lived one."""
    answer = client().get(
        "access_token",
        host="instagram",
        versioned=False,
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": settings.META_INSTAGRAM_APP_SECRET,
            "access_token": token,
        },
        secrets=(settings.META_INSTAGRAM_APP_SECRET, token),
    )
    return IssuedToken(token=answer["access_token"], expires_in=_expires_in(answer))


@sensitive_variables()
def token_refresh(*, token: str) -> IssuedToken:
    """A fresh 60-day Instagram Login token for one that is at least a day old and
    still valid."""
    answer = client().get(
        "refresh_access_token",
        host="instagram",
        versioned=False,
        params={"grant_type": "ig_refresh_token", "access_token": token},
        secrets=(token,),
    )
    return IssuedToken(
        token=answer["access_token"],
        expires_in=int(answer.get("expires_in", INSTAGRAM_TOKEN_SECONDS)),
    )


@sensitive_variables()
def token_debug(*, token: str) -> Any:
    """What Meta says about a token (debug_token's `data`), asked as the app."""
    answer = client().get(
        "debug_token",
        token=_app_token(),
        params={"input_token": token},
        secrets=(settings.META_APP_SECRET, token),
    )
    return answer.get("data")


@sensitive_variables("token")
def token_check(*, account_id: str, token: str, instagram_login: bool = False) -> None:
    """Succeeds when Meta still accepts `token` for the account; TokenInvalid when not."""
    node_get(node=account_id, token=token, fields="id", instagram_login=instagram_login)


@sensitive_variables("token")
def me_get(*, token: str, fields: str, instagram_login: bool = False) -> dict[str, Any]:
    """The fields of the person or account the token is for."""
    return client().get("me", token=token, host=_host(instagram_login), params={"fields": fields})


@sensitive_variables("token")
def node_get(
    *, node: str, token: str, fields: str, instagram_login: bool = False
) -> dict[str, Any]:
    """The fields of one node (a Page, an account, a phone number)."""
    return client().get(
        _path(node), token=token, host=_host(instagram_login), params={"fields": fields}
    )


@sensitive_variables("user_token")
def pages_list(*, user_token: str) -> Iterator[dict[str, Any]]:
    """Every Page the person shared, with its Page token and linked Instagram account."""
    return client().paginate("me/accounts", token=user_token, params={"fields": PAGE_LIST_FIELDS})


@sensitive_variables("token")
def phone_numbers_list(*, waba_id: str, token: str) -> Iterator[dict[str, Any]]:
    """Every phone number of a WhatsApp Business Account."""
    return client().paginate(_path(waba_id, "phone_numbers"), token=token)


@sensitive_variables()
def phone_number_register(*, phone_number_id: str, token: str, pin: str) -> None:
    """Register a WhatsApp number for the Cloud API with its two-step verification PIN."""
    client().post(
        _path(phone_number_id, "register"),
        token=token,
        json_body={"messaging_product": "whatsapp", "pin": pin},
        secrets=(pin,),
    )


# Subscriptions and grants.


@sensitive_variables("token")
def app_subscribe(*, subscriber: str, subscriber_id: str, token: str) -> None:
    """Ask Meta to send webhooks to Padu for a Page (`POST /{page-id}/subscribed_apps`
    with the Page fields), an Instagram Login account (the same edge on
    graph.instagram.com, with the Instagram fields) or a WhatsApp Business Account (no
    fields). There is no such edge for a Page-linked Instagram account: subscribe its Page."""
    path = _path(subscriber_id, "subscribed_apps")
    if subscriber == "waba":
        client().post(path, token=token)
    elif subscriber == "page":
        client().post(path, token=token, params={"subscribed_fields": PAGE_FIELDS})
    elif subscriber == "instagram_login":
        client().post(
            path,
            token=token,
            host=_host(instagram_login=True),
            params={"subscribed_fields": INSTAGRAM_FIELDS},
        )
    else:
        raise ValueError(f"Unknown webhook subscriber {subscriber!r}.")


@sensitive_variables("token")
def app_unsubscribe(*, subscriber_id: str, token: str, instagram_login: bool = False) -> None:
    """Stop the webhooks of a Page, a WhatsApp Business Account or (`instagram_login`) an
    Instagram Login account (see `app_subscribe`)."""
    client().delete(
        _path(subscriber_id, "subscribed_apps"), token=token, host=_host(instagram_login)
    )


def grant_revoke(*, meta_user_id: str) -> None:
    """Remove the app from a person's Facebook account (everything they granted it)."""
    client().delete(
        _path(meta_user_id, "permissions"),
        token=_app_token(),
        secrets=(settings.META_APP_SECRET,),
    )


# WhatsApp templates.


@sensitive_variables("token")
def templates_list(*, waba_id: str, token: str) -> list[dict[str, Any]]:
    """Every message template of a WhatsApp Business Account, across pages."""
    return list(
        client().paginate(
            _path(waba_id, "message_templates"),
            token=token,
            params={"fields": TEMPLATE_FIELDS, "limit": 100},
        )
    )


# Sending.


@sensitive_variables("token")
def _send_from_account(
    *, kind: str, account_id: str, token: str, instagram_login: bool, body: dict[str, Any]
) -> Sent:
    answer = client().post(
        _path(account_id, "messages"),
        token=token,
        host=_host(instagram_login and kind == "instagram"),
        json_body=body,
    )
    return Sent(
        message_id=str(answer.get("message_id", "")),
        recipient_id=str(answer.get("recipient_id", "")),
    )


@sensitive_variables("token")
def _account_message_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    message: dict[str, Any],
    instagram_login: bool,
    tag: str,
) -> Sent:
    _take((kind, account_id))
    body: dict[str, Any] = {
        "recipient": {"id": recipient_id},
        "messaging_type": "MESSAGE_TAG" if tag else "RESPONSE",
        "message": message,
    }
    if tag:
        body["tag"] = tag
    return _send_from_account(
        kind=kind, account_id=account_id, token=token, instagram_login=instagram_login, body=body
    )


@sensitive_variables("token")
def message_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    text: str,
    instagram_login: bool = False,
    tag: str = "",
) -> Sent:
    """Send a text from a Page (Messenger) or an Instagram account to a person. With a
    `tag` (HUMAN_AGENT) it is a tagged message, allowed up to 7 days after theirs."""
    return _account_message_send(
        kind=kind,
        account_id=account_id,
        token=token,
        recipient_id=recipient_id,
        message={"text": text},
        instagram_login=instagram_login,
        tag=tag,
    )


@sensitive_variables("token")
def private_reply_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    comment_id: str,
    text: str,
    instagram_login: bool = False,
) -> Sent:
    """Answer a comment with a direct message to its author (once per comment, within
    7 days of it)."""
    _take((kind, account_id), ("instagram_private_reply", account_id))
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    return _send_from_account(
        kind=kind, account_id=account_id, token=token, instagram_login=instagram_login, body=body
    )


@sensitive_variables("token")
def comment_reply_send(*, comment_id: str, token: str, text: str, instagram_login: bool) -> Sent:
    """Answer an Instagram comment publicly, under it."""
    answer = client().post(
        _path(comment_id, "replies"),
        token=token,
        host=_host(instagram_login),
        json_body={"message": text},
    )
    return Sent(message_id=str(answer.get("id", "")), recipient_id="")


# A WhatsApp business-scoped user id (BSUID): a country code, a dot, maybe `ENT.` (a
# parent BSUID shared by a business's portfolios), then letters and digits.
BSUID_PATTERN = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


@sensitive_variables("token")
def _whatsapp_send(*, phone_number_id: str, token: str, to: str, content: dict[str, Any]) -> Sent:
    """Send to `to`, a phone id or, for a customer known only by their username, a
    business-scoped user id: Meta takes those in `recipient` (`to` would win over it)."""
    _take(("whatsapp", phone_number_id), ("whatsapp_recipient", f"{phone_number_id}:{to}"))
    address = "recipient" if BSUID_PATTERN.fullmatch(to) else "to"
    answer = client().post(
        _path(phone_number_id, "messages"),
        token=token,
        json_body={
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            address: to,
            **content,
        },
    )
    messages = answer.get("messages") or [{}]
    contacts = answer.get("contacts") or [{}]
    return Sent(
        message_id=str(messages[0].get("id", "")),
        recipient_id=str(contacts[0].get("wa_id") or contacts[0].get("user_id") or to),
    )


@sensitive_variables("token")
def whatsapp_text_send(
    *, phone_number_id: str, token: str, to: str, text: str, reply_to: str = ""
) -> Sent:
    """Send a free-form text from a WhatsApp number (within 24 hours of the customer's
    last message), optionally as a reply to one of theirs."""
    content: dict[str, Any] = {"type": "text", "text": {"body": text, "preview_url": False}}
    if reply_to:
        content["context"] = {"message_id": reply_to}
    return _whatsapp_send(phone_number_id=phone_number_id, token=token, to=to, content=content)


@sensitive_variables("token")
def whatsapp_template_send(
    *,
    phone_number_id: str,
    token: str,
    to: str,
    name: str,
    language: str,
    components: list[dict[str, Any]] | None = None,
) -> Sent:
    """Send an approved message template from a WhatsApp number (allowed at any time)."""
    template: dict[str, Any] = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return _whatsapp_send(
        phone_number_id=phone_number_id,
        token=token,
        to=to,
        content={"type": "template", "template": template},
    )


# Files staff send.


def _uploaded_id(value: object) -> str:
    """The id Meta gave an uploaded file, checked (Meta's ids are digits)."""
    try:
        return node_id(value)
    except UnsafeRequest:
        raise PermanentError("Meta's answer to the upload carried no usable id.") from None


@sensitive_variables("token")
def _file_upload(
    path: str, *, token: str, form: dict[str, str], field: str, upload: tuple[str, BinaryIO, str]
) -> dict[str, Any]:
    """Post a file, `upload` (its name, the file, its type), as the multipart `field`."""
    return client().post(path, token=token, form=form, files={field: upload})


@sensitive_variables("token")
def message_attachment_upload(
    *, page_id: str, token: str, attachment_type: str, file: BinaryIO, filename: str, mime_type: str
) -> str:
    """Give Meta a file to send from a Page (Messenger's Attachment Upload API, `image`
    or `file`); returns its attachment id."""
    attachment = {"attachment": {"type": attachment_type, "payload": {"is_reusable": True}}}
    answer = _file_upload(
        _path(page_id, "message_attachments"),
        token=token,
        form={"message": json.dumps(attachment)},
        field="filedata",
        upload=(filename, file, mime_type),
    )
    return _uploaded_id(answer.get("attachment_id"))


@sensitive_variables("token")
def message_attachment_send(
    *,
    kind: str,
    account_id: str,
    token: str,
    recipient_id: str,
    attachment_type: str,
    attachment_id: str = "",
    url: str = "",
    instagram_login: bool = False,
    tag: str = "",
) -> Sent:
    """Send a file from a Page or an Instagram account to a person: one uploaded to Meta
    (`attachment_id`) or one Meta fetches from `url`. Same windows and tag as a text."""
    payload = {"attachment_id": node_id(attachment_id)} if attachment_id else {"url": url}
    return _account_message_send(
        kind=kind,
        account_id=account_id,
        token=token,
        recipient_id=recipient_id,
        message={"attachment": {"type": attachment_type, "payload": payload}},
        instagram_login=instagram_login,
        tag=tag,
    )


@sensitive_variables("token")
def whatsapp_media_upload(
    *, phone_number_id: str, token: str, file: BinaryIO, filename: str, mime_type: str
) -> str:
    """Give WhatsApp a file to send from a number (`POST /{phone-number-id}/media`);
    returns its media id (kept by Meta for 30 days)."""
    answer = _file_upload(
        _path(phone_number_id, "media"),
        token=token,
        form={"messaging_product": "whatsapp", "type": mime_type},
        field="file",
        upload=(filename, file, mime_type),
    )
    return _uploaded_id(answer.get("id"))


@sensitive_variables("token")
def whatsapp_media_send(
    *,
    phone_number_id: str,
    token: str,
    to: str,
    media_type: str,
    media_id: str,
    caption: str = "",
    filename: str = "",
) -> Sent:
    """Send an uploaded image or document from a WhatsApp number (within 24 hours of
    the customer's last message), with its caption, and a document with its name."""
    media: dict[str, Any] = {"id": node_id(media_id)}
    if caption:
        media["caption"] = caption
    if filename and media_type == "document":
        media["filename"] = filename
    return _whatsapp_send(
        phone_number_id=phone_number_id,
        token=token,
        to=to,
        content={"type": media_type, media_type: media},
    )


# Customers.


def _text(value: object) -> str:
    return " ".join(value.split())[:NAME_MAX_LENGTH] if isinstance(value, str) else ""


def _is_username(value: object) -> bool:
    return isinstance(value, str) and bool(USERNAME_PATTERN.fullmatch(value))


def _withheld(error: GraphError) -> bool:
    return not isinstance(error, UnsafeRequest) and (
        error.code in PROFILE_WITHHELD_CODES or error.subcode in PROFILE_WITHHELD_SUBCODES
    )


@sensitive_variables("token")
def user_profile_get(
    *, kind: str, account_id: str, user_id: str, token: str, instagram_login: bool = False
) -> UserProfile:
    """A customer's name, username (Instagram) and picture, from their Page-scoped
    (Messenger) or Instagram-scoped id, asked with the account's token;
    ProfileUnavailable when Meta shows Padu none."""
    if kind not in USER_PROFILE_FIELDS:
        raise ValueError(f"Meta has no user profiles for {kind!r} customers.")
    path = _path(user_id)
    _take((kind, account_id), ("user_profile", account_id))
    try:
        answer = client().get(
            path,
            token=token,
            host=_host(instagram_login and kind == "instagram"),
            params={"fields": USER_PROFILE_FIELDS[kind]},
        )
    except (PermissionMissing, PermanentError) as error:
        if not _withheld(error):
            raise
        raise ProfileUnavailable(
            error.message,
            status=error.status,
            code=error.code,
            subcode=error.subcode,
            fbtrace_id=error.fbtrace_id,
        ) from None
    full_name = " ".join(
        part for part in (_text(answer.get("first_name")), _text(answer.get("last_name"))) if part
    )
    username = answer.get("username")
    return UserProfile(
        name=_text(answer.get("name")) or full_name[:NAME_MAX_LENGTH],
        username=username if kind == "instagram" and _is_username(username) else "",
        picture_url=picture_url(answer.get("profile_pic")),
    )


# Instagram posts that comments are on.

POST_FIELDS = "caption,media_type,media_product_type,permalink,timestamp"
POST_CAPTION_MAX_LENGTH = 2200
# Where Instagram shows a post; any other link in Meta's answer is dropped.
PERMALINK_PATTERN = re.compile(r"https://www\.instagram\.com/[A-Za-z0-9_./-]{1,200}")


@dataclass(frozen=True)
class Post:
    """What a person answering a comment needs of the post it is on."""

    caption: str
    media_type: str
    permalink: str
    timestamp: str


@sensitive_variables("token")
def post_get(*, media_id: str, token: str, instagram_login: bool = False) -> Post:
    """An Instagram post's caption, kind and link, asked with the account's token."""
    answer = client().get(
        _path(media_id), token=token, host=_host(instagram_login), params={"fields": POST_FIELDS}
    )
    caption, link = answer.get("caption"), answer.get("permalink")
    media_type = answer.get("media_product_type") or answer.get("media_type")
    return Post(
        caption=caption[:POST_CAPTION_MAX_LENGTH] if isinstance(caption, str) else "",
        media_type=media_type[:30] if isinstance(media_type, str) else "",
        permalink=link if isinstance(link, str) and PERMALINK_PATTERN.fullmatch(link) else "",
        timestamp=str(answer.get("timestamp") or "")[:40],
    )


# Attachments customers send.


@dataclass(frozen=True)
class MediaInfo:
    """Where WhatsApp keeps a media file for a few minutes, and what Meta says it is."""

    url: str
    mime_type: str
    size: int | None


@sensitive_variables("token")
def whatsapp_media_get(*, media_id: str, phone_number_id: str, token: str) -> MediaInfo:
    """The short-lived URL of a media file a customer sent to a WhatsApp number (only if
    it was sent to that number), with its type and size."""
    answer = client().get(
        _path(media_id), token=token, params={"phone_number_id": node_id(phone_number_id)}
    )
    size = answer.get("file_size")
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    return MediaInfo(
        url=str(answer.get("url") or ""),
        mime_type=str(answer.get("mime_type") or "")[:100],
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


@sensitive_variables("token")
def media_download(*, url: str, into: BinaryIO, max_bytes: int, token: str = "") -> Downloaded:
    """Stream an attachment from Meta's media hosts into `into`, at most `max_bytes`
    (MediaTooLarge beyond). WhatsApp's media URLs need the channel's token; Messenger's
    and Instagram's CDN links are signed and get none."""
    return client().download(url, into=into, max_bytes=max_bytes, token=token or None)


def profile_picture_download(*, url: str, into: BinaryIO, max_bytes: int) -> Downloaded:
    """Stream a customer's profile picture into `into`, at most `max_bytes`
    (MediaTooLarge beyond), from the hosts Meta serves pictures from (`ids.picture_url`),
    redirects included. No token goes with it: Meta's picture links are signed."""
    return client().download(
        url, into=into, max_bytes=max_bytes, allowed=lambda link: bool(picture_url(link))
    )

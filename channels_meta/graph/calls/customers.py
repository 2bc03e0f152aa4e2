"""What Meta shows of a customer: their name, username (Instagram) and picture."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import host, node_path, take
from channels_meta.graph.client import client
from channels_meta.graph.errors import (
    GraphError,
    PermanentError,
    PermissionMissing,
    ProfileUnavailable,
    UnsafeRequest,
)
from channels_meta.graph.ids import picture_url

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


@dataclass(frozen=True)
class UserProfile:
    """What Meta shows of a customer: each part "" when Meta gave none Padu may keep
    (`picture_url` only on Meta's content hosts, see `ids.picture_url`)."""

    name: str = ""
    username: str = ""
    picture_url: str = ""


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
    path = node_path(user_id)
    take((kind, account_id), ("user_profile", account_id))
    try:
        answer = client().get(
            path,
            token=token,
            host=host(instagram_login and kind == "instagram"),
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

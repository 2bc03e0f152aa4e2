"""The accounts a token reaches: the person or account itself, its Pages and their
Instagram accounts, a WhatsApp Business Account's numbers, and registering a number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.views.decorators.debug import sensitive_variables

from channels_meta.graph.calls.base import host, node_path
from channels_meta.graph.client import client

PAGE_LIST_FIELDS = "id,name,access_token,instagram_business_account{id,username}"


@sensitive_variables("token")
def me_get(*, token: str, fields: str, instagram_login: bool = False) -> dict[str, Any]:
    """The fields of the person or account the token is for."""
    return client().get("me", token=token, host=host(instagram_login), params={"fields": fields})


@sensitive_variables("token")
def node_get(
    *, node: str, token: str, fields: str, instagram_login: bool = False
) -> dict[str, Any]:
    """The fields of one node (a Page, an account, a phone number)."""
    return client().get(
        node_path(node), token=token, host=host(instagram_login), params={"fields": fields}
    )


@sensitive_variables("user_token")
def pages_list(*, user_token: str) -> Iterator[dict[str, Any]]:
    """Every Page the person shared, with its Page token and linked Instagram account."""
    return client().paginate("me/accounts", token=user_token, params={"fields": PAGE_LIST_FIELDS})


@sensitive_variables("token")
def phone_numbers_list(*, waba_id: str, token: str) -> Iterator[dict[str, Any]]:
    """Every phone number of a WhatsApp Business Account."""
    return client().paginate(node_path(waba_id, "phone_numbers"), token=token)


@sensitive_variables()
def phone_number_register(*, phone_number_id: str, token: str, pin: str) -> None:
    """Register a WhatsApp number for the Cloud API with its two-step verification PIN."""
    client().post(
        node_path(phone_number_id, "register"),
        token=token,
        json_body={"messaging_product": "whatsapp", "pin": pin},
        secrets=(pin,),
    )

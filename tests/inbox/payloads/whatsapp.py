"""WhatsApp Cloud API webhooks, as Meta's webhook reference documents them
(developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/
messages/<type>, .../user_preferences, and the business-scoped user ids guide), with the
ids of the test channels. Each function returns one whole delivery."""

from __future__ import annotations

from tests.channels_meta.payloads import PHONE_ID, WABA_ID

PHONE = "16505551234"
BSUID = "US.13491208655302741918"
NAME = "Sheena Nelson"
TS = "1739321024"


def delivery(value: dict, field: str = "messages") -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_ID,
                            },
                            **value,
                        },
                        "field": field,
                    }
                ],
            }
        ],
    }


def contact(phone: str | None = PHONE, user_id: str | None = BSUID, username: str = "") -> dict:
    profile = {"name": NAME, **({"username": username} if username else {})}
    return {
        "profile": profile,
        **({"wa_id": phone} if phone else {}),
        **({"user_id": user_id} if user_id else {}),
    }


def message(
    wamid: str, kind: str, phone: str | None = PHONE, user_id: str | None = BSUID, **content
) -> dict:
    """An incoming message: `from` only when Meta shares the number, `from_user_id`
    (the BSUID) since the 2026 usernames rollout."""
    return {
        "contacts": [contact(phone, user_id)],
        "messages": [
            {
                **({"from": phone} if phone else {}),
                **({"from_user_id": user_id} if user_id else {}),
                "id": wamid,
                "timestamp": TS,
                "type": kind,
                **content,
            }
        ],
    }


def username_only_text(wamid: str = "wamid.HBgLBSUIDonly") -> dict:
    # A customer who hides their number behind a username: no `wa_id`, no `from`.
    value = message(wamid, "text", phone=None, text={"body": "Is this still available?"})
    value["contacts"] = [contact(None, BSUID, username="@sheena")]
    return delivery(value)


def text_with_phone_and_bsuid(wamid: str = "wamid.HBgLboth", body: str = "Hello") -> dict:
    return delivery(message(wamid, "text", text={"body": body}))


def text_phone_only(wamid: str = "wamid.HBgLphone", body: str = "Hi") -> dict:
    # Before April 2026: no business-scoped user id anywhere.
    return delivery(message(wamid, "text", user_id=None, text={"body": body}))


def voice_note() -> dict:
    return delivery(
        message(
            "wamid.HBgLvoice",
            "audio",
            audio={
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "e/2LKBc2QhQV6ivkK4wYEQNJhk4QEZkv4cCT0ZqN2Bo=",
                "id": "1003383421387256",
                "voice": True,
            },
        )
    )


def animated_sticker() -> dict:
    return delivery(
        message(
            "wamid.HBgLsticker",
            "sticker",
            sticker={
                "mime_type": "image/webp",
                "sha256": "QgYprPfwHj0QGmeUvcTGOqk8+1eFEQnPoJRWCRvIHSY=",
                "id": "1228765028369377",
                "animated": True,
            },
        )
    )


def forwarded_image_reply() -> dict:
    return delivery(
        message(
            "wamid.HBgLimage",
            "image",
            context={
                "from": "15550783881",
                "id": "wamid.HBgLbusiness1",
                "forwarded": True,
                "frequently_forwarded": True,
            },
            image={
                "caption": "This one, in blue?",
                "mime_type": "image/jpeg",
                "sha256": "4+3dsYoEF9U7SbOVcZ3NmOr1EMQnr/k8UBMWyoBeJiQ=",
                "id": "1190325275788166",
            },
        )
    )


def location() -> dict:
    return delivery(
        message(
            "wamid.HBgLlocation",
            "location",
            location={
                "address": "1 Hacker Way, Menlo Park, CA 94025",
                "latitude": 37.483307,
                "longitude": -122.148981,
                "name": "Meta Headquarters",
                "url": "https://www.meta.com",
            },
        )
    )


def contact_card() -> dict:
    return delivery(
        message(
            "wamid.HBgLcard",
            "contacts",
            contacts=[
                {
                    "addresses": [
                        {"city": "Menlo Park", "country": "United States", "type": "WORK"}
                    ],
                    "emails": [{"email": "bjohnson@example.com", "type": "WORK"}],
                    "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara"},
                    "org": {"company": "Lucky Shrub", "title": "Manager"},
                    "phones": [
                        {"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "WORK"}
                    ],
                    "urls": [{"url": "https://www.luckyshrub.com", "type": "WORK"}],
                }
            ],
        )
    )


def click_to_whatsapp_ad() -> dict:
    return delivery(
        message(
            "wamid.HBgLad",
            "text",
            text={"body": "Can I get more info about this?"},
            referral={
                "source_url": "https://fb.me/3cr4Wqqkv",
                "source_id": "120226305854810726",
                "source_type": "ad",
                "body": "Summer succulents are here!",
                "headline": "Chat with us",
                "media_type": "image",
                "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/ad.jpg",
                "ctwa_clid": "Afe5BaeC-SQkfXjCDbzp7xeRhJ3Fy0G6bQo3cW8gSsvyWE9XzGhbmIsmuHoh",
                "welcome_message": {"text": "Hi there! Let us know how we can help."},
            },
        )
    )


def order() -> dict:
    return delivery(
        message(
            "wamid.HBgLorder",
            "order",
            order={
                "catalog_id": "194836987003835",
                "text": "Please deliver before Friday",
                "product_items": [
                    {
                        "product_retailer_id": "di9ozbzfi4",
                        "quantity": 2,
                        "item_price": 30,
                        "currency": "USD",
                    },
                    {
                        "product_retailer_id": "nqryix03ez",
                        "quantity": 1,
                        "item_price": 25.5,
                        "currency": "USD",
                    },
                ],
            },
        )
    )


def product_enquiry() -> dict:
    return delivery(
        message(
            "wamid.HBgLenquiry",
            "text",
            text={"body": "Does it come in red?"},
            context={
                "from": "15550783881",
                "id": "wamid.HBgLcatalog",
                "referred_product": {
                    "catalog_id": "194836987003835",
                    "product_retailer_id": "di9ozbzfi4",
                },
            },
        )
    )


def button_reply() -> dict:
    return delivery(
        message(
            "wamid.HBgLbutton",
            "interactive",
            context={"from": "15550783881", "id": "wamid.HBgLquestion"},
            interactive={
                "type": "button_reply",
                "button_reply": {"id": "cancel-button", "title": "Cancel"},
            },
        )
    )


def list_reply() -> dict:
    return delivery(
        message(
            "wamid.HBgLlist",
            "interactive",
            context={"from": "15550783881", "id": "wamid.HBgLmenu"},
            interactive={
                "type": "list_reply",
                "list_reply": {
                    "id": "priority_express",
                    "title": "Priority Mail Express",
                    "description": "Next Day to 2 Days",
                },
            },
        )
    )


def flow_completion() -> dict:
    return delivery(
        message(
            "wamid.HBgLflow",
            "interactive",
            context={"from": "15550783881", "id": "wamid.HBgLflowsent"},
            interactive={
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": '{"flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.", '
                    '"appointment_date": "2026-12-01", "party_size": "4"}',
                },
            },
        )
    )


def template_quick_reply() -> dict:
    return delivery(
        message(
            "wamid.HBgLtemplatebutton",
            "button",
            context={"from": "15550783881", "id": "wamid.HBgLtemplate"},
            button={"payload": "STOP_PROMOTIONS", "text": "Stop promotions"},
        )
    )


def edit(original: str, body: str = "Actually, two of them") -> dict:
    # Documented for WhatsApp Business app (coexistence) numbers.
    return delivery(
        message(
            "wamid.HBgLedit",
            "edit",
            edit={
                "original_message_id": original,
                "message": {"type": "text", "text": {"body": body}},
            },
        )
    )


def image_caption_edit(original: str) -> dict:
    return delivery(
        message(
            "wamid.HBgLeditimage",
            "edit",
            edit={
                "original_message_id": original,
                "message": {
                    "context": {"id": "wamid.HBgLbusiness1"},
                    "type": "image",
                    "image": {
                        "caption": "This one, in green?",
                        "mime_type": "image/jpeg",
                        "sha256": "4+3dsYoEF9U7SbOVcZ3NmOr1EMQnr/k8UBMWyoBeJiQ=",
                        "id": "1190325275788166",
                        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",
                    },
                },
            },
        )
    )


def revoke(original: str) -> dict:
    return delivery(message("wamid.HBgLrevoke", "revoke", revoke={"original_message_id": original}))


def reaction(target: str, emoji: str = "\U0001f44d") -> dict:
    return delivery(
        message("wamid.HBgLreaction", "reaction", reaction={"message_id": target, "emoji": emoji})
    )


def unsupported() -> dict:
    return delivery(
        message(
            "wamid.HBgLunsupported",
            "unsupported",
            errors=[
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            unsupported={"type": "poll"},
        )
    )


def changed_number(new_phone: str = "16505559999") -> dict:
    # Meta sends no `contacts` with a system message.
    value = message(
        "wamid.HBgLsystem",
        "system",
        user_id=None,
        system={
            "body": f"User {NAME} changed from {PHONE} to {new_phone}",
            "wa_id": new_phone,
            "type": "user_changed_number",
        },
    )
    del value["contacts"]
    return delivery(value)


def identity_changed() -> dict:
    value = message(
        "wamid.HBgLidentity",
        "system",
        user_id=None,
        system={
            "body": "User's identity changed",
            "identity": "Sjvjlx8G6Z0=",
            "type": "customer_identity_changed",
            "customer": PHONE,
        },
    )
    del value["contacts"]
    return delivery(value)


def status(wamid: str, state: str, **more) -> dict:
    return delivery(
        {
            "statuses": [
                {
                    "id": wamid,
                    "status": state,
                    "timestamp": "1739321030",
                    "recipient_id": PHONE,
                    "recipient_user_id": BSUID,
                    **more,
                }
            ]
        }
    )


def delivered_with_pricing(wamid: str) -> dict:
    return status(
        wamid,
        "delivered",
        conversation={
            "id": "2e6e4f5b0a2e2b7d9c4c9d1d0e4e0a33",
            "expiration_timestamp": "1739407430",
            "origin": {"type": "service"},
        },
        pricing={
            "billable": True,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        },
        biz_opaque_callback_data="order-1234",
    )


def played(wamid: str) -> dict:
    return status(wamid, "played")


def business_app_echo(wamid: str = "wamid.HBgLecho", body: str = "Your order has shipped") -> dict:
    # Coexistence: sent by the business from the WhatsApp Business app.
    return delivery(
        {
            "message_echoes": [
                {
                    "from": "15550783881",
                    "to": PHONE,
                    "to_user_id": BSUID,
                    "id": wamid,
                    "timestamp": TS,
                    "type": "text",
                    "text": {"body": body},
                }
            ]
        },
        field="smb_message_echoes",
    )


def marketing_preference(choice: str = "stop", timestamp: int = 1739321024) -> dict:
    return delivery(
        {
            "contacts": [contact()],
            "user_preferences": [
                {
                    "wa_id": PHONE,
                    "user_id": BSUID,
                    "detail": f"User requested to {choice} marketing messages",
                    "category": "marketing_messages",
                    "value": choice,
                    "timestamp": timestamp,
                }
            ],
        },
        field="user_preferences",
    )


def captured_text_with_bsuid() -> dict:
    # A real delivery captured in a public client's webhook test script (2026), with the
    # ids of the test channels: `user_id` and `country_code` on the contact,
    # `from_user_id` and `from_logical_id` on the message.
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15556481025",
                                "phone_number_id": PHONE_ID,
                            },
                            "contacts": [
                                {
                                    "profile": {"name": "Krish Thakur"},
                                    "wa_id": "919810218674",
                                    "user_id": "IN.1410018717833190",
                                    "country_code": "IN",
                                }
                            ],
                            "messages": [
                                {
                                    "from": "919810218674",
                                    "from_user_id": "IN.1410018717833190",
                                    "id": "wamid.HBgMOTE5ODEwMjE4Njc0FQIAEhggQUM4Q0I2MzlG"
                                    "QzA0NDhFOUIwOTJGMjVERTZCRDY3MTMA",
                                    "timestamp": "1779372805",
                                    "text": {"body": "Hey"},
                                    "from_logical_id": "95000398405635",
                                    "type": "text",
                                }
                            ],
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }

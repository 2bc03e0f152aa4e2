"""Customers of the simulated businesses: they write, send media, react and comment, and
Meta tells Padu through webhooks."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from channels_meta.simulator.http import invalid_parameter
from channels_meta.simulator.media import cdn_link, media_store
from channels_meta.simulator.profiles import NAMES, customer_note, username_of
from channels_meta.simulator.state import Comment
from channels_meta.simulator.webhooks import messaging_entry, whatsapp_entry

if TYPE_CHECKING:
    from channels_meta.simulator.app import MetaSimulator
    from channels_meta.simulator.media import Media

# WhatsApp's media message types (each carries a media id); Messenger and Instagram
# send image, video, audio and file attachments as links.
MEDIA_TYPES = {"image", "audio", "video", "document", "sticker"}
LINKED_MEDIA_TYPES = {"image", "audio", "video", "file", "document"}
DEFAULT_ORDER = [["latte-large", 2, 95], ["croissant", 1, 60]]


class Customers:
    def __init__(self, sim: MetaSimulator) -> None:
        self.sim = sim

    @property
    def state(self):
        return self.sim.state

    def _customer_id(self, kind: str, body: dict) -> str:
        if kind == "whatsapp" and body.get("user_id"):
            return str(body["user_id"])
        if body.get("customer_id"):
            return str(body["customer_id"]).lstrip("+")
        if kind == "whatsapp":
            return "90" + self.state.new_id(10)
        return self.state.new_id(16)

    def _business(self, kind: str, business_id: str) -> None:
        known = {
            "messenger": self.state.pages,
            "instagram": self.state.instagram_accounts,
            "whatsapp": self.state.phone_numbers,
        }.get(kind, {})
        if business_id not in known:
            raise invalid_parameter(f"No {kind} business with id {business_id!r}.")

    def send_message(self, body: dict) -> dict:
        """A customer writes: `text`, media (`media_type`; the file in `media_content`,
        base64, with `media_mime_type` and `media_filename`, else a sample: a small
        picture for images), a reply (`reply_to` a message id), on Instagram a reply to
        the business's story (`story_reply`), on WhatsApp an order from the catalogue
        (`order`). The messaging window opens. On Messenger and Instagram the customer
        may give their profile's `name`, `username` and `picture_url`, or have none
        (`no_profile`). On WhatsApp, a customer given a `user_id` (a business-scoped user
        id) hides their number behind a `username`. With `ago` (seconds), the message was
        written that long ago and Meta delivers it only now, as it does after retrying
        for a while."""
        kind, business_id = body.get("kind", ""), str(body.get("business_id", ""))
        self._business(kind, business_id)
        media_type = str(body.get("media_type") or "")
        with self.state.lock:
            customer_id = self._customer_id(kind, body)
            now = self.state.event_time() - float(body.get("ago") or 0)
            self.state.last_inbound[(business_id, customer_id)] = now
            media = None
            if media_type in (MEDIA_TYPES if kind == "whatsapp" else LINKED_MEDIA_TYPES):
                media = media_store(self.state, business_id, media_type, body)
            if kind == "whatsapp":
                mid = "wamid.HBgL" + self.state.new_id(24)
                entry = self._whatsapp_message(business_id, customer_id, mid, body, now, media)
            else:
                customer_note(self.state, customer_id, body)
                mid = ("m_" if kind == "messenger" else "aWdf") + self.state.new_id(20)
                message: dict = {"mid": mid}
                if body.get("text"):
                    message["text"] = body["text"]
                if media is not None:
                    link = cdn_link(self.state, self.sim.public_url, media)
                    message["attachments"] = [{"type": media_type, "payload": {"url": link}}]
                elif media_type:
                    message["attachments"] = [
                        {"type": media_type, "payload": {"url": f"https://scontent.example/{mid}"}}
                    ]
                if body.get("reply_to"):
                    message["reply_to"] = {"mid": body["reply_to"]}
                if body.get("story_reply"):
                    story_id = self.state.new_id(17)
                    message["reply_to"] = {
                        "story": {
                            "id": story_id,
                            "url": f"https://lookaside.example/story/{story_id}",
                        }
                    }
                item = {
                    "sender": {"id": customer_id},
                    "recipient": {"id": business_id},
                    "timestamp": int(now * 1000),
                    "message": message,
                }
                entry = messaging_entry(business_id, [item], int(now * 1000))
            self.state.inbound_log.append((kind, business_id, customer_id, mid))
        self.sim.emit(kind, entry)
        sent = {"mid": mid, "customer_id": customer_id}
        return {**sent, "media_id": media.id} if media is not None else sent

    def _whatsapp_message(
        self, phone_id: str, wa_id: str, mid: str, body: dict, now: float, media: Media | None
    ) -> dict:
        phone = self.state.phone_numbers[phone_id]
        hidden = bool(body.get("user_id"))
        sender = {"from_user_id": wa_id} if hidden else {"from": wa_id}
        message: dict = {**sender, "id": mid, "timestamp": str(int(now))}
        media_type = body.get("media_type")
        if media is not None:
            described = {
                "id": media.id,
                "mime_type": media.mime_type,
                "sha256": base64.b64encode(hashlib.sha256(media.content).digest()).decode(),
            }
            if body.get("text"):
                described["caption"] = body["text"]
            if media_type == "document":
                described["filename"] = media.filename
            message.update(type=media_type, **{media_type: described})
        elif media_type == "location":
            message.update(
                type="location",
                location={
                    "latitude": 41.0082,
                    "longitude": 28.9784,
                    "name": "Galata",
                    "address": "İstanbul",
                },
            )
        elif body.get("order"):
            message.update(type="order", order=self._order(body))
        else:
            message.update(type="text", text={"body": body.get("text", "")})
        if body.get("reply_to"):
            message["context"] = {"from": phone.display_phone_number, "id": body["reply_to"]}
        name = body.get("name") or self.state.random.choice(NAMES)
        if hidden:
            profile = {"name": name, "username": body.get("username") or "a_customer"}
            contact = {"profile": profile, "user_id": wa_id}
        else:
            contact = {"profile": {"name": name}, "wa_id": wa_id}
        value = {"contacts": [contact], "messages": [message]}
        return whatsapp_entry(phone.waba_id, phone.id, phone.display_phone_number, value)

    def _order(self, body: dict) -> dict:
        """A WhatsApp catalogue order: `order` is a list of [product id, quantity, price]
        (or true for a default basket), with `text` as the customer's note."""
        items = body["order"] if isinstance(body["order"], list) else DEFAULT_ORDER
        order: dict = {
            "catalog_id": "1" + self.state.new_id(14),
            "product_items": [
                {
                    "product_retailer_id": str(product),
                    "quantity": int(quantity),
                    "item_price": price,
                    "currency": body.get("currency", "TRY"),
                }
                for product, quantity, price in items
            ],
        }
        if body.get("text"):
            order["text"] = body["text"]
        return order

    def react(self, body: dict) -> dict:
        kind, business_id = body.get("kind", ""), str(body.get("business_id", ""))
        self._business(kind, business_id)
        customer_id = self._customer_id(kind, body)
        now = self.state.clock()
        if kind == "whatsapp":
            phone = self.state.phone_numbers[business_id]
            message = {
                "from": customer_id,
                "id": "wamid.HBgL" + self.state.new_id(24),
                "timestamp": str(int(now)),
                "type": "reaction",
                "reaction": {"message_id": body["mid"], "emoji": body.get("emoji", "👍")},
            }
            entry = whatsapp_entry(
                phone.waba_id,
                phone.id,
                phone.display_phone_number,
                {
                    "contacts": [{"profile": {"name": "Customer"}, "wa_id": customer_id}],
                    "messages": [message],
                },
            )
        else:
            item = {
                "sender": {"id": customer_id},
                "recipient": {"id": business_id},
                "timestamp": int(now * 1000),
                "reaction": {
                    "mid": body["mid"],
                    "action": body.get("action", "react"),
                    "reaction": "love",
                    "emoji": body.get("emoji", "❤️"),
                },
            }
            entry = messaging_entry(business_id, [item], int(now * 1000))
        self.sim.emit(kind, entry)
        return {"customer_id": customer_id}

    def comment(self, body: dict) -> dict:
        """Someone comments on an Instagram post; one private reply becomes possible."""
        account_id = str(body.get("instagram_id", ""))
        self._business("instagram", account_id)
        with self.state.lock:
            customer_id = self._customer_id("instagram", body)
            customer_note(self.state, customer_id, body)
            comment = Comment(
                id=self.state.new_id(17),
                instagram_id=account_id,
                from_id=customer_id,
                username=username_of(self.state, customer_id),
                text=body.get("text", ""),
                media_id=str(body.get("media_id") or self.state.new_id(17)),
                created_at=self.state.event_time(),
            )
            self.state.comments[comment.id] = comment
            self.state.inbound_log.append(("instagram", account_id, comment.from_id, comment.id))
        value = {
            "id": comment.id,
            "from": {"id": comment.from_id, "username": comment.username},
            "text": comment.text,
            "media": {"id": comment.media_id, "media_product_type": "FEED"},
        }
        if body.get("parent_id"):
            value["parent_id"] = body["parent_id"]
        self.sim.emit(
            "instagram",
            {
                "id": account_id,
                "time": int(comment.created_at),
                "changes": [{"field": "comments", "value": value}],
            },
        )
        return {"comment_id": comment.id, "customer_id": comment.from_id}

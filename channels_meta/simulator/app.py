"""The Meta simulator as a WSGI application: the Graph API endpoints Padu uses, the
login dialogs, and Meta's webhooks for what customers and Padu do.

Control endpoints under /_sim/ let tests, the demo and operators make customers write,
comment, or let a token expire.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from channels_meta.simulator import dialogs, edges, media, oauth, profiles, sending, uploads
from channels_meta.simulator.customers import Customers
from channels_meta.simulator.http import GraphFault, Request, Response, invalid_parameter, ok
from channels_meta.simulator.state import SimulatorState
from channels_meta.simulator.webhooks import OBJECT_FOR_KIND, WebhookSender, messaging_entry
from channels_meta.simulator.webhooks import whatsapp_entry as wa_entry

ID = r"(?P<object_id>[A-Za-z0-9_.\-]+)"


DEFAULT_PUBLIC_URL = "http://127.0.0.1:8900"


class MetaSimulator:
    """Meta, as far as Padu can tell. `duplicate_rate` re-sends that share of webhook
    entries; `reorder_rate` sends that share of status updates in the wrong order;
    `receipt_delay` is how long the customer's phone takes to confirm delivery of a
    business's message, and again to read it (0: both come with the message).
    `public_url` is the simulator's own address, on which it serves customers' media."""

    def __init__(
        self,
        state: SimulatorState,
        webhooks: WebhookSender | None = None,
        *,
        enforce_rates: bool = True,
        duplicate_rate: float = 0.0,
        reorder_rate: float = 0.0,
        public_url: str = DEFAULT_PUBLIC_URL,
        receipt_delay: float = 0.0,
    ) -> None:
        self.state = state
        self.webhooks = webhooks
        self.public_url = public_url.rstrip("/")
        self.enforce_rates = enforce_rates
        self.duplicate_rate = duplicate_rate
        self.reorder_rate = reorder_rate
        self.receipt_delay = receipt_delay
        # How many of the next Graph API calls fail as if Meta were briefly down.
        self.outage_calls = 0
        # Told (kind, business id, customer id) when a business's message reaches a
        # customer: generated traffic has some customers answer.
        self.on_business_message: Callable[[str, str, str], None] | None = None
        self.customers = Customers(self)
        self.routes: list[tuple[str, re.Pattern, Callable]] = [
            ("GET", re.compile(r"^/dialog/oauth$"), self._with_state(dialogs.show)),
            (
                "GET",
                re.compile(r"^/(?:[a-z]{2}_[A-Z]{2}/)?sdk\.js$"),
                self._with_state(dialogs.sdk),
            ),
            ("GET", re.compile(r"^/oauth/authorize$"), self._with_state(dialogs.show)),
            ("POST", re.compile(r"^/dialog/confirm$"), self._with_state(dialogs.confirm)),
            (
                "GET",
                re.compile(r"^/oauth/access_token$"),
                self._with_state(oauth.facebook_access_token),
            ),
            (
                "POST",
                re.compile(r"^/oauth/access_token$"),
                self._with_state(oauth.instagram_access_token),
            ),
            ("GET", re.compile(r"^/access_token$"), self._with_state(oauth.instagram_long_lived)),
            (
                "GET",
                re.compile(r"^/refresh_access_token$"),
                self._with_state(oauth.instagram_refresh),
            ),
            ("GET", re.compile(r"^/debug_token$"), self._with_state(oauth.debug_token)),
            (
                "DELETE",
                re.compile(r"^/me/permissions$"),
                self._with_state(oauth.remove_permissions),
            ),
            (
                "DELETE",
                re.compile(rf"^/{ID}/permissions$"),
                self._with_state(oauth.remove_user_permissions),
            ),
            ("GET", re.compile(r"^/me$"), self._with_state(edges.me)),
            ("GET", re.compile(r"^/me/accounts$"), self._with_state(edges.me_accounts)),
            ("*", re.compile(rf"^/{ID}/subscribed_apps$"), self._with_state(edges.subscribed_apps)),
            ("GET", re.compile(rf"^/{ID}/phone_numbers$"), self._with_state(edges.phone_numbers)),
            ("POST", re.compile(rf"^/{ID}/register$"), self._with_state(edges.register)),
            (
                "GET",
                re.compile(rf"^/{ID}/message_templates$"),
                self._with_state(edges.message_templates),
            ),
            ("POST", re.compile(rf"^/{ID}/messages$"), self._with_sim(sending.send_message)),
            ("POST", re.compile(rf"^/{ID}/media$"), self._with_state(uploads.whatsapp_upload)),
            (
                "POST",
                re.compile(rf"^/{ID}/message_attachments$"),
                self._with_state(uploads.attachment_upload),
            ),
            ("POST", re.compile(rf"^/{ID}/replies$"), self._with_sim(sending.reply_to_comment)),
            ("GET", re.compile(r"^/_sim/state$"), lambda request: ok(self.state.describe())),
            ("GET", re.compile(r"^/_sim/pictures/(?P<customer_id>[0-9]+)\.png$"), profiles.picture),
            ("POST", re.compile(r"^/_sim/(?P<action>[a-z_]+)$"), self._control),
            (
                "GET",
                re.compile(r"^/whatsapp_business/attachments/?$"),
                self._with_state(media.whatsapp_media_download),
            ),
            (
                "GET",
                re.compile(r"^/cdn/(?P<media_id>[0-9]+)/(?P<name>[^/]+)$"),
                self._with_state(media.cdn_file),
            ),
            ("GET", re.compile(rf"^/{ID}$"), self._node),
        ]

    def _node(self, request: Request, object_id: str) -> Response:
        """A business's node (a Page, an account, a number), a customer's WhatsApp media,
        an Instagram post that has comments, or else a customer's profile."""
        state = self.state
        if object_id in state.media:
            return media.whatsapp_media(state, request, object_id, base_url=self.public_url)
        businesses = (state.pages, state.instagram_accounts, state.phone_numbers, state.wabas)
        if any(object_id in assets for assets in businesses):
            return edges.node(state, request, object_id)
        post = next((c for c in state.comments.values() if c.media_id == object_id), None)
        if post is not None:
            return edges.post(state, request, post)
        return profiles.user_profile(self, request, object_id)

    def _with_state(self, handler: Callable) -> Callable:
        return lambda request, *args: handler(self.state, request, *args)

    def _with_sim(self, handler: Callable) -> Callable:
        return lambda request, *args: handler(self, request, *args)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            response = self.dispatch(request)
        except GraphFault as fault:
            response = fault.response()
        return response(start_response)

    def dispatch(self, request: Request) -> Response:
        if request.json.get("__invalid__"):
            raise invalid_parameter("(#100) The request body is not valid JSON.")
        if not request.path.startswith("/_sim/"):
            self._outage()
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if match and method in {"*", request.method}:
                return handler(request, *match.groups())
        raise GraphFault(
            100, f"Unknown path components: {request.path}", kind="OAuthException", status=400
        )

    # Webhooks Meta sends after Padu's own actions

    def emit(self, kind: str, entry: dict, *, delay: float = 0.0) -> None:
        if self.webhooks is None:
            return
        object_type = OBJECT_FOR_KIND[kind]
        instagram_login = kind == "instagram" and entry.get("id") in self.state.instagram_login_ids
        self.webhooks.enqueue(object_type, entry, instagram_login=instagram_login, delay=delay)
        if self.state.random.random() < self.duplicate_rate:
            self.webhooks.enqueue(object_type, entry, instagram_login=instagram_login, delay=delay)

    def _statuses(self, items: list) -> list:
        if len(items) > 1 and self.state.random.random() < self.reorder_rate:
            return list(reversed(items))
        return items

    def _reached_customer(self, kind: str, business_id: str, customer_id: str) -> None:
        if self.on_business_message is not None:
            self.on_business_message(kind, business_id, customer_id)

    def after_send(
        self,
        kind: str,
        business_id: str,
        customer_id: str,
        mid: str,
        text: str,
        *,
        attachments: list | None = None,
    ) -> None:
        now_ms = int(self.state.clock() * 1000)
        echoed = {"mid": mid, "is_echo": True, "app_id": self.state.app_id}
        echoed.update({"attachments": attachments} if attachments else {"text": text})
        echo = {
            "sender": {"id": business_id},
            "recipient": {"id": customer_id},
            "timestamp": now_ms,
            "message": echoed,
        }
        self.emit(kind, messaging_entry(business_id, [echo], now_ms))
        if kind == "messenger":
            receipts = [{"delivery": {"mids": [mid]}}, {"read": {}}]
        else:
            receipts = [{"read": {"mid": mid}}]
        # Delivered after one receipt delay, read after another.
        for step, receipt in enumerate(self._statuses(receipts), start=1):
            delay = step * self.receipt_delay
            at_ms = now_ms + int(delay * 1000)
            if kind == "messenger":
                # Messenger's watermark: every message sent before this moment.
                receipt = {name: {**fields, "watermark": at_ms} for name, fields in receipt.items()}
            item = {
                "sender": {"id": customer_id},
                "recipient": {"id": business_id},
                "timestamp": at_ms + 1,
                **receipt,
            }
            self.emit(kind, messaging_entry(business_id, [item], at_ms), delay=delay)
        self._reached_customer(kind, business_id, customer_id)

    def after_whatsapp_send(
        self, phone_id: str, customer_id: str, wamid: str, *, closed: bool, by_user_id: bool = False
    ) -> None:
        phone = self.state.phone_numbers[phone_id]
        now = self.state.clock()
        # A customer known only by their username is named by their business-scoped id.
        recipient = "recipient_user_id" if by_user_id else "recipient_id"
        base = {"id": wamid, recipient: customer_id}
        if closed:
            statuses = [
                {
                    **base,
                    "status": "failed",
                    "errors": [
                        {
                            "code": 131047,
                            "title": "Re-engagement message",
                            "message": "Re-engagement message",
                            "error_data": {
                                "details": "Message failed to send because more than 24 hours "
                                "have passed since the customer last replied to this number."
                            },
                        }
                    ],
                }
            ]
        else:
            pricing = {"billable": True, "pricing_model": "CBP", "category": "service"}
            statuses = [
                {**base, "status": status, "pricing": pricing}
                for status in ("sent", "delivered", "read")
            ]
        # Sent at once, delivered after one receipt delay, read after another.
        for step, status in enumerate(self._statuses(statuses)):
            delay = step * self.receipt_delay
            entry = wa_entry(
                phone.waba_id,
                phone.id,
                phone.display_phone_number,
                {"statuses": [{**status, "timestamp": str(int(now + delay))}]},
            )
            self.emit("whatsapp", entry, delay=delay)
        if not closed:
            self._reached_customer("whatsapp", phone_id, customer_id)

    def _outage(self) -> None:
        """Meta briefly down: code 2 ("Service temporarily unavailable") with HTTP 500,
        which Meta's error guide says to retry."""
        with self.state.lock:
            if self.outage_calls <= 0:
                return
            self.outage_calls -= 1
        raise GraphFault(
            2, "An unexpected error has occurred. Please retry your request later.", status=500
        )

    # Control endpoints

    def _control(self, request: Request, action: str) -> Response:
        body = request.json or request.form
        actions = {
            "message": self.customers.send_message,
            "comment": self.customers.comment,
            "reaction": self.customers.react,
            "expire_token": self._expire_token,
            "expire_media": self._expire_media,
            "template_status": self._template_status,
            "outage": self._start_outage,
            "flush": lambda body: {"delivered": self._flush()},
        }
        if action not in actions:
            raise invalid_parameter(f"Unknown simulator action {action!r}.")
        return ok(actions[action](body))

    def _flush(self) -> int:
        if self.webhooks is None:
            return 0
        self.webhooks.flush_all()
        return len(self.webhooks.delivered)

    def _start_outage(self, body: dict) -> dict:
        """Fail the next `calls` Graph API calls (1 unless told) with a transient error."""
        with self.state.lock:
            self.outage_calls = int(body.get("calls", 1))
        return {"outage_calls": self.outage_calls}

    def _expire_token(self, body: dict) -> dict:
        """Expire a token, or every token of one asset (`subject_id`), as of now."""
        with self.state.lock:
            now = self.state.clock()
            expired = 0
            for token in self.state.tokens.values():
                if token.value == body.get("token") or (
                    body.get("subject_id") and token.subject_id == body["subject_id"]
                ):
                    token.expires_at = now - 1
                    expired += 1
        return {"expired": expired}

    def _expire_media(self, body: dict) -> dict:
        """Meta no longer has a file (`media_id`): its links and its media id stop working."""
        with self.state.lock:
            found = self.state.media.get(str(body.get("media_id", "")))
            if found is not None:
                found.expired = True
        return {"expired": int(found is not None)}

    def _template_status(self, body: dict) -> dict:
        """Meta reviews a template: its status changes and a webhook says so."""
        waba = self.state.wabas[str(body["waba_id"])]
        for index, template in enumerate(waba.templates):
            if template["name"] == body["name"] and template["language"] == body["language"]:
                template["status"] = body["status"]
                event = {
                    "event": body["status"],
                    "message_template_id": int(f"{waba.id}{index}"),
                    "message_template_name": template["name"],
                    "message_template_language": template["language"],
                    "reason": body.get("reason") or "NONE",
                }
                self.emit(
                    "whatsapp",
                    {
                        "id": waba.id,
                        "time": int(self.state.clock()),
                        "changes": [{"field": "message_template_status_update", "value": event}],
                    },
                )
                return {"updated": True}
        raise invalid_parameter("No such template.")

"""The simulator acting as Meta's webhook sender: payloads in Meta's shapes, signed the
way Meta signs them, delivered with retries, batched, and (on request) duplicated or
reordered."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger("padu.simulator")

OBJECT_FOR_KIND = {
    "messenger": "page",
    "instagram": "instagram",
    "whatsapp": "whatsapp_business_account",
}


def serialize(payload: dict) -> bytes:
    """Meta's serialization: compact, with non-ASCII escaped as \\uXXXX."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def messaging_entry(entry_id: str, items: list[dict], now_ms: int) -> dict:
    return {"id": entry_id, "time": now_ms, "messaging": items}


def whatsapp_entry(waba_id: str, phone_number_id: str, display_phone: str, value: dict) -> dict:
    return {
        "id": waba_id,
        "changes": [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": display_phone.replace(" ", "").lstrip("+"),
                        "phone_number_id": phone_number_id,
                    },
                    **value,
                },
            }
        ],
    }


@dataclass
class Delivery:
    object_type: str
    entries: list[dict]
    # Signed with the Instagram app's secret (accounts subscribed with Instagram Login).
    instagram_login: bool = False
    attempts: int = 0
    not_before: float = 0.0
    body: bytes = b""


@dataclass
class WebhookSender:
    """Queues entries, batches those of the same object into one delivery, signs and
    posts them, and retries failures with backoff (`time_scale` shrinks the waits)."""

    target_url: str
    app_secret: str
    instagram_app_secret: str = ""
    transport: httpx.BaseTransport | None = None
    time_scale: float = 1.0
    batch_size: int = 5
    max_attempts: int = 8
    delivered: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pending: queue.Queue[tuple[str, bool, dict]] = queue.Queue()
        # Entries Meta sends a while after the event that made them: (due, entry).
        self._later: list[tuple[float, tuple[str, bool, dict]]] = []
        self._retries: list[Delivery] = []
        self._lock = threading.Lock()
        self._http = httpx.Client(transport=self.transport, timeout=20.0)

    def enqueue(
        self, object_type: str, entry: dict, *, instagram_login: bool = False, delay: float = 0.0
    ) -> None:
        """Send `entry` with the next delivery, or with the first one `delay` seconds from now."""
        if delay > 0:
            with self._lock:
                self._later.append(
                    (time.monotonic() + delay, (object_type, instagram_login, entry))
                )
                self._later.sort(key=lambda item: item[0])
            return
        self._pending.put((object_type, instagram_login, entry))

    def _release_due(self, now: float) -> None:
        with self._lock:
            due = [item for at, item in self._later if at <= now]
            self._later = [(at, item) for at, item in self._later if at > now]
        for item in due:
            self._pending.put(item)

    def _batches(self) -> list[Delivery]:
        grouped: dict[tuple[str, bool], list[dict]] = {}
        while True:
            try:
                object_type, instagram_login, entry = self._pending.get_nowait()
            except queue.Empty:
                break
            grouped.setdefault((object_type, instagram_login), []).append(entry)
        return [
            Delivery(object_type, entries[start : start + self.batch_size], instagram_login)
            for (object_type, instagram_login), entries in grouped.items()
            for start in range(0, len(entries), self.batch_size)
        ]

    def secret_for(self, delivery: Delivery) -> str:
        if delivery.instagram_login and self.instagram_app_secret:
            return self.instagram_app_secret
        return self.app_secret

    def send(self, delivery: Delivery) -> bool:
        """Post one delivery; True when it got a 200."""
        if not delivery.body:
            delivery.body = serialize({"object": delivery.object_type, "entry": delivery.entries})
        delivery.attempts += 1
        try:
            response = self._http.post(
                self.target_url,
                content=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(delivery.body, self.secret_for(delivery)),
                    "User-Agent": "facebookexternalua",
                },
            )
            status = response.status_code
        except httpx.HTTPError as error:
            logger.info("Webhook delivery failed: %s", type(error).__name__)
            status = 0
        if status == 200:
            self.delivered.append(delivery)
            return True
        if delivery.attempts >= self.max_attempts:
            self.failed.append(delivery)
        else:
            backoff = min(3600.0, 2.0**delivery.attempts) * self.time_scale
            delivery.not_before = time.monotonic() + backoff
            with self._lock:
                self._retries.append(delivery)
        return False

    def flush(self) -> int:
        """Deliver what is queued and whatever retries are due; how many got a 200."""
        now = time.monotonic()
        self._release_due(now)
        with self._lock:
            due = [d for d in self._retries if d.not_before <= now]
            self._retries = [d for d in self._retries if d.not_before > now]
        return sum(self.send(delivery) for delivery in [*due, *self._batches()])

    def flush_all(self, timeout: float = 30.0) -> None:
        """Keep flushing until nothing is queued, waiting to be sent later or retried."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.flush()
            with self._lock:
                idle = not self._retries and not self._later and self._pending.empty()
            if idle:
                return
            time.sleep(0.01)

    def run_forever(self, stop: threading.Event, interval: float = 0.05) -> None:
        while not stop.is_set():
            self.flush()
            stop.wait(interval)

    def close(self) -> None:
        """Close the connections kept open to the target."""
        self._http.close()

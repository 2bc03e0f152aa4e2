"""Realistic customer traffic for the demo and benchmarks: a fixed crowd of customers,
each a regular of one business, writing, sending photos, reacting and commenting."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels_meta.simulator.app import MetaSimulator

LINES = [
    "Merhaba, bugün açık mısınız?",
    "Do you deliver on Sundays?",
    "سلام، قیمت این چقدر است؟",
    "Здравствуйте! Есть ли у вас скидки?",
    "नमस्ते, क्या यह उपलब्ध है?",
    "Can I change my order to two lattes?",
    "Teşekkürler, çok güzel olmuş 😍",
    "Where is my order? It has been an hour.",
    "Olá! Vocês fazem entregas?",
    "Is the 10% discount still on?",
]


@dataclass
class Regular:
    kind: str
    business_id: str
    customer_id: str


class Traffic:
    def __init__(self, sim: MetaSimulator, *, customers: int, rate: float) -> None:
        self.sim = sim
        self.rate = rate
        state = sim.state
        businesses = [
            *(("messenger", page_id) for page_id in state.pages),
            *(("instagram", account_id) for account_id in state.instagram_accounts),
            *(("whatsapp", phone_id) for phone_id in state.phone_numbers),
        ]
        with state.lock:
            for number in range(len(state.regulars), customers):
                kind, business_id = businesses[number % len(businesses)]
                customer_id = ("90" + state.new_id(10)) if kind == "whatsapp" else state.new_id(16)
                state.regulars.append((kind, business_id, customer_id))
            self.regulars = [Regular(*regular) for regular in state.regulars[:customers]]

    def one_event(self) -> None:
        random = self.sim.state.random
        regular = random.choice(self.regulars)
        roll = random.random()
        customers = self.sim.customers
        if regular.kind == "instagram" and roll < 0.15:
            customers.comment(
                {
                    "instagram_id": regular.business_id,
                    "customer_id": regular.customer_id,
                    "text": random.choice(LINES),
                }
            )
            return
        body = {
            "kind": regular.kind,
            "business_id": regular.business_id,
            "customer_id": regular.customer_id,
            "text": random.choice(LINES),
        }
        if roll > 0.9:
            body["media_type"] = "image"
        customers.send_message(body)

    def run(self, stop: threading.Event, limit: int | None = None) -> int:
        """Send events at `rate` per second until stopped (or `limit` events)."""
        sent = 0
        interval = 1.0 / self.rate if self.rate > 0 else None
        next_at = time.monotonic()
        while interval and not stop.is_set() and (limit is None or sent < limit):
            self.one_event()
            sent += 1
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))
        return sent

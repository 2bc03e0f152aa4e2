"""Realistic customer traffic for the demo and benchmarks: a fixed crowd of customers,
each a regular of one business, writing in many languages, sending photos, commenting,
replying to stories, ordering, and sometimes answering when the business writes back."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from channels_meta.simulator.profiles import NAMES, USERNAMES

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
# What customers say when the business has written to them.
ANSWERS = [
    "Thank you! 🙏",
    "Harika, teşekkürler!",
    "Perfect, see you at five.",
    "Obrigado, até logo!",
    "Спасибо, жду!",
    "ممنون، عالی بود 🌷",
    "Great, and can I pay by card?",
]
# The opening burst, so that the inbox has something of everything at once.
OPENING: list[dict] = [
    {"kind": "whatsapp", "text": "Merhaba! Bugün saat kaça kadar açıksınız?"},
    {"kind": "messenger", "text": "Hi! Do you deliver on Sundays?"},
    {"kind": "instagram", "comment": "Bu fincanlar satılık mı? 😍"},
    {"kind": "whatsapp", "order": True, "text": "Saat 3'te alabilir miyim?"},
    {"kind": "instagram", "story_reply": True, "text": "Is this the new roast? Looks amazing"},
    {"kind": "messenger", "media_type": "image", "text": "My cup arrived like this 😕"},
    {"kind": "whatsapp", "text": "سلام، قیمت این چقدر است؟"},
    {"kind": "instagram", "text": "Здравствуйте! Есть ли у вас скидки?"},
    {"kind": "whatsapp", "media_type": "image", "text": "Olá! Vocês têm este bolo?"},
    {"kind": "messenger", "text": "नमस्ते, क्या यह उपलब्ध है?"},
    {"kind": "instagram", "comment": "What time do you open on Saturdays?"},
    {"kind": "whatsapp", "text": "Can I change my order to two lattes?"},
    # Written yesterday, delivered only now (Meta retries for days): WhatsApp's window has
    # closed, so the business may answer only with a template.
    {"kind": "whatsapp", "text": "Dün sipariş verdim, hâlâ gelmedi.", "ago": 26 * 3600},
]
# Seconds between the opening's messages; before the opening, once a business has
# subscribed (its channels are being saved); after a business's message before an
# answering customer writes.
OPENING_SPACING = 0.5
SETTLE_SECONDS = 1.0
ANSWER_AFTER = (3.0, 8.0)
SUBSCRIPTION_POLL = 0.5


@dataclass
class Regular:
    kind: str
    business_id: str
    customer_id: str


class Traffic:
    """`rate` events per second after an `opening` burst of that many scripted events;
    `answers` is the share of customers who answer a business's message. With
    `subscribed_only`, customers write only to businesses that have subscribed an app
    to their webhooks (as only those reach anyone), and the traffic waits for one."""

    def __init__(
        self,
        sim: MetaSimulator,
        *,
        customers: int,
        rate: float,
        opening: int = 0,
        answers: float = 0.0,
        subscribed_only: bool = False,
    ) -> None:
        self.sim = sim
        self.rate = rate
        self.opening = opening
        self.answers = answers
        self.subscribed_only = subscribed_only
        self._stop = threading.Event()
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
        # The same person each time (their profile's name and username), and
        # different people for one business's regulars (they take turns among businesses).
        self._person = {
            regular.customer_id: (number // len(businesses) + number % len(businesses)) % len(NAMES)
            for number, regular in enumerate(self.regulars)
        }
        if answers > 0:
            sim.on_business_message = self.answer_later

    def _reaches_padu(self, regular: Regular) -> bool:
        state = self.sim.state
        subscriber = regular.business_id
        if regular.kind == "whatsapp":
            subscriber = state.phone_numbers[regular.business_id].waba_id
        return subscriber in state.subscriptions

    def active(self) -> list[Regular]:
        """The regulars whose messages reach an app now."""
        if not self.subscribed_only:
            return self.regulars
        with self.sim.state.lock:
            return [regular for regular in self.regulars if self._reaches_padu(regular)]

    def _write(self, regular: Regular, event: dict) -> None:
        customers = self.sim.customers
        person = self._person.get(regular.customer_id, 0)
        profile = {"name": NAMES[person], "username": USERNAMES[person]}
        if "comment" in event:
            customers.comment(
                {
                    "instagram_id": regular.business_id,
                    "customer_id": regular.customer_id,
                    "text": event["comment"],
                    **profile,
                }
            )
            return
        body = {
            "kind": regular.kind,
            "business_id": regular.business_id,
            "customer_id": regular.customer_id,
            **profile,
        }
        body.update((key, value) for key, value in event.items() if key != "kind")
        customers.send_message(body)

    def one_event(self) -> None:
        """One customer, chosen at random, does something."""
        regulars = self.active()
        if not regulars:
            return
        random = self.sim.state.random
        regular = random.choice(regulars)
        roll = random.random()
        text = random.choice(LINES)
        if regular.kind == "instagram" and roll < 0.15:
            event: dict = {"comment": text}
        elif regular.kind == "instagram" and roll < 0.2:
            event = {"story_reply": True, "text": text}
        elif regular.kind == "whatsapp" and roll < 0.05:
            event = {"order": True}
        else:
            event = {"text": text}
            if roll > 0.9:
                event["media_type"] = "image"
        self._write(regular, event)

    def opening_events(self) -> list[tuple[Regular, dict]]:
        """The first `opening` scripted events, each kind's given to its active regulars
        in turn (kinds with none are left out)."""
        by_kind: dict[str, list[Regular]] = {}
        for regular in self.active():
            by_kind.setdefault(regular.kind, []).append(regular)
        events = []
        turns: dict[str, int] = {}
        for index in range(self.opening):
            event = OPENING[index % len(OPENING)]
            regulars = by_kind.get(event["kind"])
            if regulars:
                turn = turns.get(event["kind"], 0)
                turns[event["kind"]] = turn + 1
                events.append((regulars[turn % len(regulars)], event))
        return events

    def answer_later(self, kind: str, business_id: str, customer_id: str) -> None:
        """Some customers answer a business's message a few seconds later."""
        random = self.sim.state.random
        with self.sim.state.lock:
            if random.random() >= self.answers:
                return
            text = random.choice(ANSWERS)
            delay = random.uniform(*ANSWER_AFTER)
        regular = Regular(kind, business_id, customer_id)
        timer = threading.Timer(delay, self._answer, args=(regular, text))
        timer.daemon = True
        timer.start()

    def _answer(self, regular: Regular, text: str) -> None:
        if not self._stop.is_set():
            self._write(regular, {"text": text})

    def run(self, stop: threading.Event, limit: int | None = None) -> int:
        """Play the opening, then send events at `rate` per second until stopped (or
        `limit` events)."""
        self._stop = stop
        while self.subscribed_only and not self.active() and not stop.is_set():
            stop.wait(SUBSCRIPTION_POLL)
        if self.opening and self.subscribed_only:
            stop.wait(SETTLE_SECONDS)
        sent = 0
        for regular, event in self.opening_events():
            if stop.is_set():
                return sent
            self._write(regular, event)
            sent += 1
            stop.wait(OPENING_SPACING)
        interval = 1.0 / self.rate if self.rate > 0 else None
        next_at = time.monotonic()
        while interval and not stop.is_set() and (limit is None or sent < limit):
            self.one_event()
            sent += 1
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))
        return sent

"""The simulator's customers for the demo: an opening burst of everything customers do,
only to businesses subscribed to webhooks; some customers answering the business; and
receipts that come a while after a business's message, delivered before read."""

from __future__ import annotations

import json
import threading
import time

import pytest

from channels_meta.graph import client as graph_client
from channels_meta.simulator import traffic as traffic_module
from channels_meta.simulator.state import DAY
from channels_meta.simulator.traffic import ANSWERS, Traffic
from tests.channels_meta.test_simulator import send_dm

RECEIPT_DELAY = 0.2


def entries(meta) -> list[dict]:
    return [entry for body in meta.receiver.bodies for entry in json.loads(body)["entry"]]


def whatsapp_statuses(meta) -> list[dict]:
    return [
        status
        for entry in entries(meta)
        for change in entry.get("changes", [])
        for status in change["value"].get("statuses", [])
    ]


def whatsapp_text(number: dict, to: str, text: str) -> dict:
    return graph_client.client().post(
        f"{number['id']}/messages",
        token=number["system_token"],
        json_body={
            "messaging_product": "whatsapp",
            "to": to,
            "type": "text",
            "text": {"body": text},
        },
    )


@pytest.fixture
def quick(monkeypatch):
    """The traffic's pauses, made short enough for a test."""
    for name, value in (
        ("OPENING_SPACING", 0),
        ("SETTLE_SECONDS", 0),
        ("SUBSCRIPTION_POLL", 0.01),
        ("ANSWER_AFTER", (0.01, 0.02)),
    ):
        monkeypatch.setattr(traffic_module, name, value)


def test_a_whatsapp_message_is_sent_at_once_then_delivered_then_read_a_delay_apart(meta):
    meta.sim.receipt_delay = RECEIPT_DELAY
    number = meta.assets["whatsapp_numbers"][0]
    customer = meta.customer_writes(kind="whatsapp", business_id=number["id"], text="Merhaba")

    whatsapp_text(number, customer["customer_id"], "Hoş geldiniz")
    meta.sender.flush()
    first = [status["status"] for status in whatsapp_statuses(meta)]
    meta.sender.flush_all()

    statuses = whatsapp_statuses(meta)
    assert first == ["sent"]
    assert [status["status"] for status in statuses] == ["sent", "delivered", "read"]
    times = [int(status["timestamp"]) for status in statuses]
    assert times == sorted(times)


def test_messenger_delivery_and_read_receipts_come_after_the_echo(meta):
    meta.sim.receipt_delay = RECEIPT_DELAY
    page = meta.assets["pages"][0]
    customer = meta.customer_writes(kind="messenger", business_id=page["id"], text="Hi")
    send_dm(page["id"], page["system_token"], customer["customer_id"])
    meta.sender.flush()
    at_once = len(entries(meta))
    meta.sender.flush_all()

    items = [item for entry in entries(meta) for item in entry["messaging"]]
    assert at_once == 2  # the customer's message and the echo
    assert ["delivery" in items[2], "read" in items[3]] == [True, True]
    assert items[3]["timestamp"] > items[2]["timestamp"] > items[1]["timestamp"]
    # Read when the customer read it: later than the message, as its watermark says.
    assert items[3]["read"]["watermark"] > items[1]["timestamp"]


def test_some_customers_answer_the_business_a_few_seconds_later(meta, quick):
    Traffic(meta.sim, customers=6, rate=0, answers=1.0)
    number = meta.assets["whatsapp_numbers"][0]
    customer = meta.customer_writes(kind="whatsapp", business_id=number["id"], text="Merhaba")

    whatsapp_text(number, customer["customer_id"], "Siparişiniz yolda")
    deadline = time.monotonic() + 5
    while len(meta.state.inbound_log) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    meta.sender.flush_all()

    answer = entries(meta)[-1]["changes"][0]["value"]["messages"][0]
    assert answer["from"] == customer["customer_id"]
    assert answer["text"]["body"] in ANSWERS


def test_the_opening_waits_for_a_subscription_and_writes_only_to_subscribed_businesses(meta, quick):
    page = meta.assets["pages"][0]
    traffic = Traffic(meta.sim, customers=12, rate=0, opening=12, subscribed_only=True)
    assert traffic.active() == []
    stop = threading.Event()
    playing = threading.Thread(target=traffic.run, args=(stop,))
    playing.start()
    try:
        meta.state.subscriptions[page["id"]] = {"messages"}
        meta.state.subscriptions[page["instagram_id"]] = {"messages", "comments"}
        playing.join(timeout=10)
    finally:
        stop.set()
    meta.sender.flush_all()

    written = {(kind, business) for kind, business, _, _ in meta.state.inbound_log}
    assert written == {("messenger", page["id"]), ("instagram", page["instagram_id"])}
    sent = entries(meta)
    messages = [item["message"] for entry in sent for item in entry.get("messaging", [])]
    assert any(change["field"] == "comments" for e in sent for change in e.get("changes", []))
    assert any("story" in message.get("reply_to", {}) for message in messages)
    assert any(message.get("attachments") for message in messages)


def test_an_opening_for_a_whatsapp_number_has_an_order_and_a_photo(meta, quick):
    number = meta.assets["whatsapp_numbers"][0]
    meta.state.subscriptions[number["waba_id"]] = {"messages"}
    traffic = Traffic(meta.sim, customers=12, rate=0, opening=12, subscribed_only=True)

    traffic.run(threading.Event())
    meta.sender.flush_all()

    messages = [
        message
        for entry in entries(meta)
        for change in entry["changes"]
        for message in change["value"]["messages"]
    ]
    kinds = {message["type"] for message in messages}
    assert {"text", "image", "order"} <= kinds
    order = next(message["order"] for message in messages if message["type"] == "order")
    assert order["product_items"][0]["quantity"] == 2


def test_a_message_meta_delivers_a_day_late_keeps_its_time_and_its_closed_window(meta):
    number = meta.assets["whatsapp_numbers"][0]
    customer = meta.customer_writes(
        kind="whatsapp", business_id=number["id"], text="Dün yazmıştım", ago=DAY + 60
    )
    meta.sender.flush_all()

    written = entries(meta)[0]["changes"][0]["value"]["messages"][0]
    assert time.time() - int(written["timestamp"]) > DAY
    whatsapp_text(number, customer["customer_id"], "Merhaba")
    meta.sender.flush_all()
    failed = whatsapp_statuses(meta)[-1]
    assert (failed["status"], failed["errors"][0]["code"]) == ("failed", 131047)

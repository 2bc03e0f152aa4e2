"""The simulator keeps Meta's rules, with Meta's error codes, as seen through Padu's own
Graph client; and it sends webhooks the way Meta sends them."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors
from channels_meta.simulator.state import DAY, SimulatorState
from tests.channels_meta.conftest import APP_SECRET


def page_of(meta):
    page = meta.assets["pages"][0]
    return page["id"], page["system_token"]


def whatsapp_of(meta):
    number = meta.assets["whatsapp_numbers"][0]
    return number["id"], number["system_token"]


def send_dm(page_id, token, customer_id, text="Hello", **extra):
    return graph_client.client().post(
        f"{page_id}/messages",
        token=token,
        json_body={
            "recipient": {"id": customer_id},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
            **extra,
        },
    )


def age_last_message(meta, business_id, customer_id, seconds):
    meta.state.last_inbound[(business_id, customer_id)] -= seconds


def test_a_reply_inside_the_window_is_sent_and_echoed(meta):
    page_id, token = page_of(meta)
    customer = meta.customer_writes(kind="messenger", business_id=page_id, text="Merhaba")

    answer = send_dm(page_id, token, customer["customer_id"])

    assert answer["recipient_id"] == customer["customer_id"]
    assert answer["message_id"].startswith("m_")
    meta.sender.flush_all()
    delivered = [json.loads(body) for body in meta.receiver.bodies]
    items = [item for d in delivered for e in d["entry"] for item in e["messaging"]]
    assert any(item["message"].get("is_echo") for item in items if "message" in item)
    assert any("delivery" in item for item in items)
    assert any("read" in item for item in items)


def test_messenger_outside_24_hours_needs_the_human_agent_tag_and_never_after_7_days(meta):
    page_id, token = page_of(meta)
    customer_id = meta.customer_writes(kind="messenger", business_id=page_id, text="hi")[
        "customer_id"
    ]
    age_last_message(meta, page_id, customer_id, 2 * DAY)

    with pytest.raises(errors.OutsideWindow) as closed:
        send_dm(page_id, token, customer_id)
    assert (closed.value.code, closed.value.subcode) == (10, 2018278)
    send_dm(page_id, token, customer_id, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")

    age_last_message(meta, page_id, customer_id, 6 * DAY)
    with pytest.raises(errors.OutsideWindow):
        send_dm(page_id, token, customer_id, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")


def test_instagram_outside_the_window_answers_403_with_an_ig_api_exception(meta):
    account = meta.assets["instagram_accounts"][0]
    customer_id = meta.customer_writes(kind="instagram", business_id=account["id"], text="hi")[
        "customer_id"
    ]
    age_last_message(meta, account["id"], customer_id, 2 * DAY)

    answer = meta.http.post(
        f"/v25.0/{account['id']}/messages",
        headers={"Authorization": f"Bearer {account['system_token']}"},
        json={"recipient": {"id": customer_id}, "message": {"text": "Hello"}},
    )
    with pytest.raises(errors.OutsideWindow) as closed:
        send_dm(account["id"], account["system_token"], customer_id)

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert (error["type"], error["code"], error["error_subcode"]) == (
        "IGApiException",
        10,
        2534022,
    )
    assert error["fbtrace_id"]
    assert (closed.value.status, closed.value.code, closed.value.subcode) == (403, 10, 2534022)


@pytest.mark.parametrize(
    "tag", ["CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE"]
)
def test_retired_tags_are_refused_with_error_100(meta, tag):
    page_id, token = page_of(meta)
    customer_id = meta.customer_writes(kind="messenger", business_id=page_id, text="hi")[
        "customer_id"
    ]

    with pytest.raises(errors.PermanentError) as refused:
        send_dm(page_id, token, customer_id, messaging_type="MESSAGE_TAG", tag=tag)
    assert refused.value.code == 100


def test_text_longer_than_meta_allows_is_refused(meta):
    page_id, token = page_of(meta)
    customer_id = meta.customer_writes(kind="messenger", business_id=page_id, text="hi")[
        "customer_id"
    ]

    with pytest.raises(errors.PermanentError, match="less than or equal to 2000"):
        send_dm(page_id, token, customer_id, text="x" * 2001)


def test_one_private_reply_per_comment_within_7_days(meta):
    account = meta.assets["instagram_accounts"][1]
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": account["id"], "text": "Price?"}
    ).json()
    reply = {"recipient": {"comment_id": comment["comment_id"]}, "message": {"text": "DM'd you"}}
    client = graph_client.client()

    client.post(f"{account['id']}/messages", token=account["system_token"], json_body=reply)
    with pytest.raises(errors.PermanentError) as second:
        client.post(f"{account['id']}/messages", token=account["system_token"], json_body=reply)
    assert second.value.code == 10

    late = meta.http.post("/_sim/comment", json={"instagram_id": account["id"]}).json()
    meta.state.comments[late["comment_id"]].created_at -= 8 * DAY
    with pytest.raises(errors.OutsideWindow):
        client.post(
            f"{account['id']}/messages",
            token=account["system_token"],
            json_body={
                "recipient": {"comment_id": late["comment_id"]},
                "message": {"text": "Too late"},
            },
        )


def test_whatsapp_outside_the_window_is_accepted_then_fails_with_131047(meta):
    phone_id, token = whatsapp_of(meta)
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "905550001122",
        "type": "text",
        "text": {"body": "Hi", "preview_url": False},
    }

    answer = graph_client.client().post(f"{phone_id}/messages", token=token, json_body=body)

    assert answer["messages"][0]["id"].startswith("wamid.")
    meta.sender.flush_all()
    statuses = [
        status
        for delivery in map(json.loads, meta.receiver.bodies)
        for entry in delivery["entry"]
        for change in entry["changes"]
        for status in change["value"].get("statuses", [])
    ]
    assert [s["status"] for s in statuses] == ["failed"]
    assert statuses[0]["errors"][0]["code"] == 131047


def test_whatsapp_templates_are_allowed_outside_the_window_when_approved(meta):
    phone_id, token = whatsapp_of(meta)
    template = {
        "messaging_product": "whatsapp",
        "to": "905550001122",
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"}},
    }
    pending = {
        **template,
        "template": {"name": "appointment_reminder", "language": {"code": "en_US"}},
    }

    graph_client.client().post(f"{phone_id}/messages", token=token, json_body=template)
    with pytest.raises(errors.PermanentError) as refused:
        graph_client.client().post(f"{phone_id}/messages", token=token, json_body=pending)
    assert refused.value.code == 132001


def test_expired_and_revoked_tokens_answer_190(meta):
    page_id, token = page_of(meta)
    meta.http.post("/_sim/expire_token", json={"token": token})

    with pytest.raises(errors.TokenInvalid) as expired:
        graph_client.client().get(page_id, token=token)
    assert expired.value.subcode == 463
    with pytest.raises(errors.TokenInvalid):
        graph_client.client().get("me", token="EAAGnot-a-real-token-at-all-000000")


def test_sending_faster_than_80_a_second_to_one_number_is_rate_limited(meta):
    phone_id, token = whatsapp_of(meta)
    meta.state.clock = lambda: 1_000_000.0
    body = {
        "messaging_product": "whatsapp",
        "to": "905550001122",
        "type": "text",
        "text": {"body": "Hi"},
    }
    for _ in range(80):
        graph_client.client().post(f"{phone_id}/messages", token=token, json_body=body)

    with pytest.raises(errors.RateLimited) as limited:
        graph_client.client().post(f"{phone_id}/messages", token=token, json_body=body)
    assert limited.value.code == 130429


def test_webhooks_are_signed_over_the_exact_bytes_with_non_ascii_escaped(meta):
    page_id, _token = page_of(meta)
    meta.customer_writes(kind="messenger", business_id=page_id, text="مرحبا 😍 Ayşe")

    meta.sender.flush_all()

    body, signature = meta.receiver.bodies[0], meta.receiver.signatures[0]
    expected = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert body.isascii()
    assert "\\u0645" in body.decode()
    assert json.loads(body)["entry"][0]["messaging"][0]["message"]["text"] == "مرحبا 😍 Ayşe"


def test_failed_deliveries_are_retried_until_they_get_a_200(meta):
    meta.receiver.fail_first = 3
    page_id, _token = page_of(meta)
    meta.customer_writes(kind="messenger", business_id=page_id, text="hello?")

    meta.sender.flush_all()

    assert meta.receiver.attempts == 4
    assert len(meta.receiver.bodies) == 1


def test_duplicates_can_be_injected(meta):
    meta.sim.duplicate_rate = 1.0
    page_id, _token = page_of(meta)
    meta.customer_writes(kind="messenger", business_id=page_id, text="twice")

    meta.sender.flush_all()

    entries = [e for body in meta.receiver.bodies for e in json.loads(body)["entry"]]
    assert len(entries) == 2
    assert entries[0] == entries[1]


def test_the_same_seed_gives_the_same_businesses_and_tokens():
    first = SimulatorState(app_id="1", app_secret="s", seed=11)
    second = SimulatorState(app_id="1", app_secret="s", seed=11)
    first.seed_default()
    second.seed_default()

    assert first.describe() == second.describe()


def test_templates_are_listed_page_by_page(meta):
    number = meta.assets["whatsapp_numbers"][0]

    templates = list(
        graph_client.client().paginate(
            f"{number['waba_id']}/message_templates",
            token=number["system_token"],
            params={"limit": 2},
        )
    )

    assert [t["name"] for t in templates] == ["order_update", "hello_again", "appointment_reminder"]


def test_customers_send_media_story_replies_and_reactions_in_meta_shapes(meta):
    account = meta.assets["instagram_accounts"][0]
    number = meta.assets["whatsapp_numbers"][0]
    story = meta.customer_writes(
        kind="instagram", business_id=account["id"], text="😍", story_reply=True
    )
    meta.customer_writes(
        kind="whatsapp", business_id=number["id"], media_type="image", text="Bu renk var mı?"
    )
    meta.http.post(
        "/_sim/reaction",
        json={
            "kind": "instagram",
            "business_id": account["id"],
            "customer_id": story["customer_id"],
            "mid": story["mid"],
        },
    )

    meta.sender.flush_all()

    entries = [e for body in meta.receiver.bodies for e in json.loads(body)["entry"]]
    messaging = [item for e in entries for item in e.get("messaging", [])]
    assert "story" in messaging[0]["message"]["reply_to"]
    assert messaging[1]["reaction"]["action"] == "react"
    whatsapp = next(e for e in entries if "changes" in e)["changes"][0]["value"]
    assert whatsapp["metadata"]["phone_number_id"] == number["id"]
    assert whatsapp["messages"][0]["type"] == "image"
    assert whatsapp["messages"][0]["image"]["caption"] == "Bu renk var mı?"


def whatsapp_values(meta) -> list[dict]:
    meta.sender.flush_all()
    return [
        change["value"]
        for body in meta.receiver.bodies
        for entry in json.loads(body)["entry"]
        for change in entry["changes"]
    ]


def test_a_whatsapp_customer_known_by_username_writes_and_is_answered_by_their_user_id(meta):
    phone_id, token = whatsapp_of(meta)
    meta.customer_writes(
        kind="whatsapp", business_id=phone_id, user_id="TR.48213", username="sheena", text="Hi"
    )
    reply = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": "TR.48213",
        "type": "text",
        "text": {"body": "Hello!"},
    }

    answer = graph_client.client().post(f"{phone_id}/messages", token=token, json_body=reply)

    inbound, *statuses = whatsapp_values(meta)
    assert inbound["contacts"] == [
        {
            "profile": {"name": inbound["contacts"][0]["profile"]["name"], "username": "sheena"},
            "user_id": "TR.48213",
        }
    ]
    assert inbound["messages"][0]["from_user_id"] == "TR.48213"
    assert "from" not in inbound["messages"][0]
    assert answer["contacts"] == [{"input": "TR.48213", "user_id": "TR.48213"}]
    assert [s["statuses"][0]["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["statuses"][0]["recipient_user_id"] for s in statuses} == {"TR.48213"}


@pytest.mark.parametrize("recipient", ["", "not-an-id", "48213"])
def test_a_whatsapp_send_to_nobody_meta_knows_how_to_address_is_refused(meta, recipient):
    phone_id, token = whatsapp_of(meta)
    body = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "Hi"}}

    with pytest.raises(errors.PermanentError) as refused:
        graph_client.client().post(
            f"{phone_id}/messages", token=token, json_body={**body, "recipient": recipient}
        )

    assert refused.value.code == 100
    assert meta.state.sent == []


def test_a_brief_outage_fails_the_next_calls_with_a_transient_500(meta):
    page_id, token = page_of(meta)
    customer_id = meta.customer_writes(kind="messenger", business_id=page_id, text="hi")[
        "customer_id"
    ]
    meta.http.post("/_sim/outage", json={"calls": 2})

    for _ in range(2):
        with pytest.raises(errors.TransientError) as down:
            send_dm(page_id, token, customer_id)
        assert (down.value.status, down.value.code) == (500, 2)
    send_dm(page_id, token, customer_id)

    assert len(meta.state.sent) == 1


def test_what_the_business_sent_is_noted_with_the_path_it_went_to(meta):
    account = meta.assets["instagram_accounts"][1]
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": account["id"], "text": "Price?"}
    ).json()
    client = graph_client.client()

    public = client.post(
        f"{comment['comment_id']}/replies",
        token=account["system_token"],
        json_body={"message": "12 TL"},
    )
    client.post(
        f"{account['id']}/messages",
        token=account["system_token"],
        json_body={"recipient": {"comment_id": comment["comment_id"]}, "message": {"text": "DM"}},
    )

    replied, private = meta.state.sent
    assert (replied.id, replied.path, replied.body) == (
        public["id"],
        f"/{comment['comment_id']}/replies",
        {"message": "12 TL"},
    )
    assert (replied.recipient_id, private.recipient_id) == (comment["customer_id"],) * 2
    assert private.path == f"/{account['id']}/messages"

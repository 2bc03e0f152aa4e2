"""The typed Meta operations, against the simulator standing where Meta is."""

from __future__ import annotations

import httpx
import pytest

from channels_meta.graph import client as graph_client
from channels_meta.graph import errors, ratelimit
from channels_meta.graph.calls import sending, subscriptions, templates
from channels_meta.simulator.state import DAY


class HostsSeen(httpx.BaseTransport):
    """The simulator, noting which of Meta's hosts each request went to."""

    def __init__(self, sim) -> None:
        self.inner = httpx.WSGITransport(app=sim)
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return self.inner.handle_request(request)


@pytest.fixture
def hosts(meta) -> HostsSeen:
    transport = HostsSeen(meta.sim)
    graph_client.use_transport(transport)
    return transport


@pytest.fixture
def buckets(monkeypatch) -> list[tuple[str, str]]:
    taken: list[tuple[str, str]] = []
    acquire = ratelimit.acquire

    def noting(limit: str, subject: str, **kwargs) -> None:
        taken.append((limit, subject))
        acquire(limit, subject, **kwargs)

    monkeypatch.setattr(ratelimit, "acquire", noting)
    return taken


def page_of(meta) -> dict:
    return meta.assets["pages"][0]


def whatsapp_of(meta) -> dict:
    return meta.assets["whatsapp_numbers"][0]


def reply_to_a_new_customer(meta, kind: str, account: dict, **options):
    """A customer of `account` writes; the business answers "Hello" through `calls`."""
    customer = meta.customer_writes(kind=kind, business_id=account["id"], text="Merhaba")
    sent = sending.message_send(
        kind=kind,
        account_id=account["id"],
        token=account["system_token"],
        recipient_id=customer["customer_id"],
        text="Hello",
        **options,
    )
    return customer, sent


def test_a_messenger_reply_is_sent_through_the_pages_bucket(meta, buckets):
    page = page_of(meta)

    customer, sent = reply_to_a_new_customer(meta, "messenger", page)

    assert sent.recipient_id == customer["customer_id"]
    assert sent.message_id.startswith("m_")
    assert meta.state.sent[-1].body == {
        "recipient": {"id": customer["customer_id"]},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello"},
    }
    assert buckets == [("messenger", page["id"])]


def test_the_human_agent_tag_lets_a_reply_through_after_24_hours(meta):
    page = page_of(meta)
    customer_id = meta.customer_writes(kind="messenger", business_id=page["id"], text="hi")[
        "customer_id"
    ]
    meta.state.last_inbound[(page["id"], customer_id)] -= 2 * DAY
    reply = {
        "kind": "messenger",
        "account_id": page["id"],
        "token": page["system_token"],
        "recipient_id": customer_id,
        "text": "Sorry for the wait",
    }

    with pytest.raises(errors.OutsideWindow):
        sending.message_send(**reply)
    sent = sending.message_send(**reply, tag="HUMAN_AGENT")

    assert sent.message_id
    assert meta.state.sent[-1].body["messaging_type"] == "MESSAGE_TAG"
    assert meta.state.sent[-1].body["tag"] == "HUMAN_AGENT"


@pytest.mark.parametrize(
    ("instagram_login", "host"), [(True, "graph.instagram.com"), (False, "graph.facebook.com")]
)
def test_an_instagram_reply_goes_to_the_host_of_its_login(
    meta, hosts, buckets, instagram_login, host
):
    account = meta.assets["instagram_accounts"][0]

    customer, sent = reply_to_a_new_customer(
        meta, "instagram", account, instagram_login=instagram_login
    )

    assert sent.recipient_id == customer["customer_id"]
    assert hosts.hosts == [host]
    assert buckets == [("instagram", account["id"])]


def test_a_private_reply_answers_a_comment_once_and_counts_against_its_own_limit(meta, buckets):
    account = meta.assets["instagram_accounts"][1]
    comment = meta.http.post(
        "/_sim/comment", json={"instagram_id": account["id"], "text": "Price?"}
    ).json()
    reply = {
        "kind": "instagram",
        "account_id": account["id"],
        "token": account["system_token"],
        "comment_id": comment["comment_id"],
        "text": "Sent you the prices",
    }

    sent = sending.private_reply_send(**reply)
    with pytest.raises(errors.PermanentError) as second:
        sending.private_reply_send(**reply)

    assert sent.message_id
    assert meta.state.sent[-1].body["recipient"] == {"comment_id": comment["comment_id"]}
    assert second.value.code == 10
    assert buckets[:2] == [
        ("instagram", account["id"]),
        ("instagram_private_reply", account["id"]),
    ]


def test_a_whatsapp_text_is_sent_through_the_number_and_recipient_buckets(meta, buckets):
    number = whatsapp_of(meta)
    customer = meta.customer_writes(kind="whatsapp", business_id=number["id"], text="Hi")

    sent = sending.whatsapp_text_send(
        phone_number_id=number["id"],
        token=number["system_token"],
        to=customer["customer_id"],
        text="Hello!",
        reply_to="wamid.HBgLcustomer",
    )

    assert sent.message_id.startswith("wamid.")
    assert sent.recipient_id == customer["customer_id"]
    assert meta.state.sent[-1].body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": customer["customer_id"],
        "type": "text",
        "text": {"body": "Hello!", "preview_url": False},
        "context": {"message_id": "wamid.HBgLcustomer"},
    }
    assert buckets == [
        ("whatsapp", number["id"]),
        ("whatsapp_recipient", f"{number['id']}:{customer['customer_id']}"),
    ]


def test_an_approved_whatsapp_template_is_sent_and_an_unknown_one_refused(meta, buckets):
    number = whatsapp_of(meta)
    send = {"phone_number_id": number["id"], "token": number["system_token"], "to": "905550001122"}

    sent = sending.whatsapp_template_send(**send, name="order_update", language="en_US")
    with pytest.raises(errors.PermanentError):
        sending.whatsapp_template_send(**send, name="no_such_template", language="en_US")

    assert sent.message_id.startswith("wamid.")
    assert meta.state.sent[-1].body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
    }
    assert buckets[:2] == [
        ("whatsapp", number["id"]),
        ("whatsapp_recipient", f"{number['id']}:905550001122"),
    ]


def test_a_send_held_back_by_padus_own_limit_is_rate_limited_and_not_sent(meta, monkeypatch):
    monkeypatch.setitem(ratelimit.LIMITS, "whatsapp_recipient", (0.01, 1.0))
    number = whatsapp_of(meta)
    send = {
        "phone_number_id": number["id"],
        "token": number["system_token"],
        "to": "905550009999",
        "name": "order_update",
        "language": "en_US",
    }
    sending.whatsapp_template_send(**send)
    sent_before = len(meta.state.sent)

    with pytest.raises(errors.RateLimited) as limited:
        sending.whatsapp_template_send(**send)

    assert limited.value.retry_after > 60
    assert len(meta.state.sent) == sent_before


def test_templates_are_listed_across_pages(meta):
    number = whatsapp_of(meta)

    listed = templates.templates_list(waba_id=number["waba_id"], token=number["system_token"])

    assert {template["name"] for template in listed} == {
        "order_update",
        "hello_again",
        "appointment_reminder",
    }


def test_an_id_that_is_not_metas_never_reaches_a_path(meta, hosts):
    with pytest.raises(errors.UnsafeRequest):
        subscriptions.app_unsubscribe(subscriber_id="../me", token="EAAG-test-token-0001")
    with pytest.raises(errors.UnsafeRequest):
        subscriptions.grant_revoke(meta_user_id="me/accounts")

    assert hosts.hosts == []

"""The inbox in a real browser (headless Chromium driven by Playwright), with the Meta
simulator on a real port posting its webhooks to the live server and tasks run as they
are enqueued: a customer's message appears in the open list without a reload; an agent
answers it, Meta takes the reply and then says it was delivered and read; an agent
attaches an image, which Meta takes as an image message and which shows in the
conversation with its mark; a WhatsApp customer who wrote more than a day ago can be sent
only a template; and the keyboard moves through the list and into the reply box."""

from __future__ import annotations

import threading
from wsgiref.simple_server import make_server

import pytest
from PIL import Image
from playwright.sync_api import expect

from channels_meta.graph import client as graph_client
from channels_meta.models import ChannelKind
from channels_meta.oauth import account_from_token
from channels_meta.services.channels import channels_connect
from channels_meta.services.templates import templates_sync
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import DAY, SimulatorState
from channels_meta.simulator.webhooks import WebhookSender
from tests.channels_meta.factories import make_channel
from tests.conftest import PASSWORD, make_member
from tests.inbox.factories import make_conversation, make_message
from tests.test_browser import _Quiet, _Server, browser  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

APP_ID, APP_SECRET = "6060", "browser-inbox-secret"
# The design promises open pages learn of a change within 2 seconds.
LIVE_MS = 2_000
# How long the customer's phone takes to confirm delivery, and again to read.
RECEIPT_DELAY = 1.5


@pytest.fixture
def meta(settings, live_server, world, celery_eager):
    """The Meta simulator on a real port, its webhooks going to the live server, with
    the organisation's Messenger Page and WhatsApp number connected through it; tasks
    run in the process that enqueues them."""
    settings.META_APP_ID, settings.META_APP_SECRET = APP_ID, APP_SECRET
    state = SimulatorState(app_id=APP_ID, app_secret=APP_SECRET, seed=11)
    state.seed_default()
    sender = WebhookSender(target_url=f"{live_server.url}/webhooks/meta/", app_secret=APP_SECRET)
    sim = MetaSimulator(state, sender, receipt_delay=RECEIPT_DELAY)
    server = make_server("127.0.0.1", 0, sim, server_class=_Server, handler_class=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    settings.META_GRAPH_URL = settings.META_INSTAGRAM_GRAPH_URL = url
    graph_client.use_transport(None)
    stop = threading.Event()
    threads = [
        threading.Thread(target=server.serve_forever, daemon=True),
        threading.Thread(target=sender.run_forever, args=(stop,), daemon=True),
    ]
    for thread in threads:
        thread.start()
    assets = state.describe()
    page, number = assets["pages"][0], assets["whatsapp_numbers"][0]
    accounts = [
        account_from_token(
            kind=ChannelKind.MESSENGER, external_id=page["id"], token=page["system_token"]
        ),
        account_from_token(
            kind=ChannelKind.WHATSAPP,
            external_id=number["id"],
            waba_id=number["waba_id"],
            token=number["system_token"],
        ),
    ]
    connection = channels_connect(organization=world.org, accounts=accounts, connected_by=None)
    templates_sync(channel=connection.channels[1])
    yield sim
    stop.set()
    threads[1].join()
    sender.close()
    server.shutdown()
    graph_client.use_transport(None)


def customer_writes(sim: MetaSimulator, kind: str, text: str, **extra) -> str:
    """A customer of the first Page or number writes (a WhatsApp customer with a
    `name`); their id at Meta."""
    assets = sim.state.describe()
    business = assets["pages"][0] if kind == "messenger" else assets["whatsapp_numbers"][0]
    body = {"kind": kind, "business_id": business["id"], "text": text, **extra}
    return sim.customers.send_message(body)["customer_id"]


@pytest.fixture
def inbox_page(browser, live_server, world):  # noqa: F811
    """An agent signed in through the form, on the inbox; the page stops polling when
    the test ends."""
    agent = make_member(world.org, "deniz@acme.example")
    agent.user.set_password(PASSWORD)
    agent.user.save(update_fields=["password"])
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail address").fill("deniz@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Inbox", exact=True).click()
    expect(page.get_by_role("heading", name="Choose a conversation")).to_be_visible()
    yield page
    context.close()


def test_a_customer_writes_an_agent_answers_and_the_reply_is_delivered_then_read(meta, inbox_page):
    page = inbox_page
    expect(page.get_by_text("No conversations here.")).to_be_visible()
    search = page.get_by_role("searchbox", name="Search conversations")
    search.fill("Ayş")

    customer = customer_writes(meta, "whatsapp", "Merhaba, bugün açık mısınız?", name="Ayşe Yılmaz")
    ayse = page.locator("[data-row]", has_text="Ayşe Yılmaz")
    expect(ayse).to_contain_text("Merhaba, bugün açık mısınız?", timeout=LIVE_MS)
    # What the agent was typing in the search box is still there.
    expect(search).to_have_value("Ayş")
    expect(search).to_be_focused()
    customer_writes(meta, "messenger", "Do you deliver on Sundays?")
    expect(page.locator("[data-row]", has_text="Do you deliver on Sundays?")).to_have_count(
        1, timeout=LIVE_MS
    )

    ayse.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Ayşe Yılmaz", level=1)).to_be_visible()
    page.get_by_role("textbox", name="Reply").fill("Evet, 20:00'ye kadar açığız.")
    page.get_by_role("button", name="Send", exact=True).click()

    reply = page.locator("article.msg.out").last
    expect(reply).to_contain_text("Evet, 20:00'ye kadar açığız.")
    sent = meta.state.sent[-1]
    assert (sent.recipient_id, sent.body["text"]["body"]) == (
        customer,
        "Evet, 20:00'ye kadar açığız.",
    )
    expect(reply.locator(".mark")).to_have_attribute("title", "Delivered")
    expect(reply.locator(".mark")).to_have_attribute("title", "Read")

    # Out of the reply box, j moves from the open conversation (first since the reply)
    # to the next; the list reloading for a new customer keeps that focus; r goes back
    # to the reply box.
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    focused = page.locator("[data-row] a:focus")
    expect(focused).to_contain_text("Do you deliver on Sundays?")
    customer_writes(meta, "whatsapp", "İyi akşamlar!", name="Zeynep Kaya")
    expect(page.locator("[data-row]", has_text="Zeynep Kaya")).to_have_count(1, timeout=LIVE_MS)
    expect(focused).to_contain_text("Do you deliver on Sundays?")
    page.keyboard.press("r")
    expect(page.get_by_role("textbox", name="Reply")).to_be_focused()


def test_a_conversation_opened_from_the_list_replaces_only_its_pane_and_stays_live(
    meta, inbox_page
):
    page = inbox_page
    refused = []  # what the browser refused to run, by the page's Content-Security-Policy
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.reload()
    customer_writes(meta, "whatsapp", "Is the terrace open?", name="Ayşe Yılmaz")
    messenger_customer = customer_writes(meta, "messenger", "Do you take bookings?")
    ayse = page.locator("[data-row]", has_text="Ayşe Yılmaz")
    other = page.locator("[data-row]", has_text="Do you take bookings?")
    expect(other).to_have_count(1, timeout=LIVE_MS)
    expect(ayse).to_have_count(1, timeout=LIVE_MS)
    page.evaluate("window.sameDocument = true")

    ayse.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Ayşe Yılmaz", level=1)).to_be_visible()
    other.get_by_role("link").click()
    expect(page.locator("#timeline")).to_contain_text("Do you take bookings?")

    assert page.evaluate("window.sameDocument") is True  # the page was not loaded again
    expect(other.get_by_role("link")).to_have_attribute("aria-current", "true")
    expect(ayse.get_by_role("link")).not_to_have_attribute("aria-current", "true")
    opened = page.locator("[data-conversation]").get_attribute("data-conversation")
    assert page.url.split("?")[0].endswith(f"/inbox/{opened}/")
    # The live poll now watches this conversation: the customer's next message shows in
    # it, and the list, reloaded for it, still marks this row.
    customer_writes(meta, "messenger", "For four people, tonight.", customer_id=messenger_customer)
    expect(page.locator("#timeline")).to_contain_text("For four people, tonight.", timeout=LIVE_MS)
    row = page.locator(f"#row-{opened}")
    expect(row).to_contain_text("For four people, tonight.")
    expect(row).to_have_attribute("aria-current", "true")
    expect(ayse.get_by_role("link")).not_to_have_attribute("aria-current", "true")
    assert refused == []


def test_on_a_phone_a_conversation_opened_far_down_the_list_shows_from_its_top(
    inbox_page, world, live_server
):
    page_channel = make_channel(world.org, kind=ChannelKind.MESSENGER, external_id="1065404")
    for number in range(20):
        make_message(make_conversation(page_channel, name=f"Customer {number}"))
    page = inbox_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/o/{world.org.slug}/inbox/")
    far = page.locator("[data-row] a").nth(15)
    name = far.locator(".name").text_content()
    far.scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 0

    far.click()

    expect(page.get_by_role("heading", name=name, level=1)).to_be_in_viewport()
    expect(page.locator("#list-pane")).to_be_hidden()
    assert page.evaluate("window.scrollY") == 0


def test_an_agent_sends_an_image_that_reaches_the_customer_and_shows_with_its_mark(
    meta, inbox_page, tmp_path
):
    page = inbox_page
    image = tmp_path / "menü.png"
    Image.new("RGB", (64, 48), "orange").save(image, "PNG")
    customer = customer_writes(meta, "whatsapp", "Menünüzü görebilir miyim?", name="Elif Şahin")

    page.locator("[data-row]", has_text="Elif Şahin").get_by_role("link").click(timeout=LIVE_MS)
    page.get_by_text("Attach a file").click()
    page.get_by_label("Attach an image or document").set_input_files(image)
    page.get_by_role("textbox", name="Reply").fill("Bugünün menüsü")
    page.get_by_role("button", name="Send", exact=True).click()

    sent = page.locator("article.msg.out").last
    expect(sent).to_contain_text("Bugünün menüsü")
    # One message, the image with the text as its caption.
    [received] = meta.state.sent
    assert (received.recipient_id, received.body["type"]) == (customer, "image")
    assert received.body["image"]["caption"] == "Bugünün menüsü"
    assert meta.state.media[received.body["image"]["id"]].content == image.read_bytes()
    shown = sent.get_by_role("img", name="Image sent to the customer")
    expect(shown).to_have_js_property("complete", True)
    assert shown.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [64, 48]
    expect(sent.locator(".mark")).to_have_attribute("title", "Delivered")
    expect(sent.locator(".mark")).to_have_attribute("title", "Read")


def test_a_whatsapp_customer_who_wrote_more_than_a_day_ago_can_get_only_a_template(
    meta, inbox_page
):
    page = inbox_page
    customer_writes(meta, "whatsapp", "Siparişim nerede?", name="Mehmet Demir", ago=DAY + 3600)

    page.locator("[data-row]", has_text="Mehmet Demir").get_by_role("link").click()

    expect(page.get_by_role("note")).to_contain_text("WhatsApp allows only an approved template")
    expect(page.get_by_role("textbox", name="Reply")).to_have_count(0)
    templates = page.locator("form.template-form")
    expect(templates).to_have_count(2)
    expect(templates.first).to_contain_text("hello_again tr · Marketing")
    expect(templates.get_by_role("button", name="Send template")).to_have_count(2)

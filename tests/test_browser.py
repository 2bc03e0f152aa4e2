"""Padu in a real browser (headless Chromium driven by Playwright), as a new user would
try it: sign up, invite a colleague who joins, switch organisations, connect channels
through the Meta simulator's dialogs, disconnect and reconnect one; and platform staff
suspend an organisation; and someone turns on two-factor authentication and signs in
with a code; and the organisation's pages fit a phone's screen."""

from __future__ import annotations

import base64
import os
import re
import shutil
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core import mail
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect, sync_playwright

from accounts.models import AuditAction, AuditEvent, Membership, Organization, User
from accounts.services import invitation_issue
from channels_meta.graph import client as graph_client
from channels_meta.models import Channel
from channels_meta.simulator.app import MetaSimulator
from channels_meta.simulator.state import SimulatorState
from tests.channels_meta.factories import make_channel
from tests.conftest import make_user
from tests.inbox.factories import make_conversation
from tests.otp import next_code

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "a long enough passphrase"
pytestmark = pytest.mark.django_db(transaction=True)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def simulator(settings):
    """The Meta simulator on a real port, where Padu and the browser both reach it."""
    settings.META_APP_ID, settings.META_APP_SECRET = "7777", "browser-test-secret"
    state = SimulatorState(app_id="7777", app_secret="browser-test-secret", seed=9)
    state.seed_default()
    server = make_server(
        "127.0.0.1", 0, MetaSimulator(state), server_class=_Server, handler_class=_Quiet
    )
    url = f"http://127.0.0.1:{server.server_port}"
    for name in (
        "META_GRAPH_URL",
        "META_INSTAGRAM_GRAPH_URL",
        "META_INSTAGRAM_API_URL",
        "META_DIALOG_URL",
    ):
        setattr(settings, name, url)
    settings.META_INSTAGRAM_AUTHORIZE_URL = f"{url}/oauth/authorize"
    graph_client.use_transport(None)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    graph_client.use_transport(None)


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread, and the test's own
    # queries run beside it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        # Queries the test made ran in Playwright's context: close that connection here.
        connections.close_all()
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_up(page, base, *, name, email, organization):
    page.goto(f"{base}/sign-up/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Organisation name").fill(organization)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_label("I am 18 years old or older").check()
    page.locator("#id_accept_terms").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    link = re.search(r"http\S+/account/confirm/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()


def test_sign_up_invite_a_colleague_switch_organisations_and_be_suspended(
    browser, live_server, settings
):
    settings.SITE_URL = live_server.url
    owner = browser.new_page()
    sign_up(
        owner,
        live_server.url,
        name="Ayşe Yılmaz",
        email="ayse@example.com",
        organization="Kahve Evi",
    )
    expect(owner.get_by_role("heading", name="Kahve Evi")).to_be_visible()

    owner.get_by_role("link", name="Members", exact=True).click()
    owner.get_by_label("E-mail address").fill("mehmet@example.com")
    owner.get_by_label("Role").select_option("agent")
    owner.get_by_role("button", name="Send invitation").click()
    expect(owner.get_by_text("Invitation sent to mehmet@example.com.")).to_be_visible()

    link = re.search(r"http\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    colleague = browser.new_context().new_page()
    colleague.goto(link)
    colleague.get_by_label("Your name").fill("Mehmet Demir")
    colleague.get_by_label("Password", exact=True).fill(PASSWORD)
    colleague.get_by_label("Password confirmation").fill(PASSWORD)
    colleague.get_by_label("I am 18 years old or older").check()
    colleague.locator("#id_accept_terms").check()
    colleague.get_by_role("button", name="Create account and join").click()
    expect(colleague.get_by_text("Welcome to Kahve Evi.")).to_be_visible()
    organization = Organization.objects.get(name="Kahve Evi")
    assert Membership.objects.get(user__email="mehmet@example.com").organization == organization

    owner.locator("summary").click()
    owner.get_by_role("link", name="New organisation…").click()
    owner.get_by_label("Organisation name").fill("Bloom Flowers")
    owner.get_by_role("button", name="Create organisation").click()
    expect(owner.get_by_role("heading", name="Bloom Flowers")).to_be_visible()
    owner.locator("summary").click()
    owner.get_by_role("link", name=re.compile("Kahve Evi")).click()
    expect(owner.get_by_role("heading", name="Kahve Evi")).to_be_visible()

    staff_user = User.objects.create_superuser(email="staff@padu.example", password=PASSWORD)
    device = TOTPDevice.objects.create(user=staff_user, name="Authenticator app")
    staff = browser.new_context().new_page()
    staff.goto(f"{live_server.url}/admin/accounts/organization/")
    staff.get_by_label("E-mail address").fill("staff@padu.example")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.get_by_label("Code").fill(next_code(device))
    staff.get_by_role("button", name="Continue").click()
    staff.get_by_role("row", name=re.compile("Kahve Evi")).get_by_role("checkbox").check()
    staff.locator("select[name=action]").select_option("suspend")
    staff.get_by_role("button", name="Go").click()
    expect(staff.get_by_text("1 organisation suspended.")).to_be_visible()

    colleague.reload()
    expect(colleague.get_by_role("heading", name="This organisation is suspended")).to_be_visible()


def test_an_admin_connects_disconnects_and_reconnects_channels_through_meta_dialogs(
    browser, live_server, settings, simulator
):
    settings.SITE_URL = live_server.url
    page = browser.new_page()
    sign_up(page, live_server.url, name="Ayşe", email="ayse@example.com", organization="Kahve Evi")
    page.get_by_role("link", name="Channels", exact=True).click()

    page.get_by_role("button", name=re.compile("^Facebook Pages")).click()
    expect(page.get_by_role("heading", name="Meta simulator")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text(re.compile("^Connected:"))).to_be_visible()
    page.get_by_label("Two-step verification PIN").fill("246810")
    page.get_by_role("button", name="WhatsApp (Embedded Signup)").click()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("Active", exact=True)).to_have_count(5)
    assert Channel.objects.filter(status="active").count() == 5
    page.get_by_role("link", name="Disconnect Bloom Flowers…").first.click()
    expect(
        page.get_by_role("heading", name=re.compile("^Disconnect Bloom Flowers"))
    ).to_be_visible()
    page.get_by_role("button", name="Disconnect Bloom Flowers").click()
    expect(page.get_by_text("Disconnected", exact=True)).to_have_count(1)
    page.get_by_role("button", name="Reconnect Bloom Flowers").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Active", exact=True)).to_have_count(5)

    page.get_by_label("Two-step verification PIN").fill("246810")
    page.get_by_role("button", name="WhatsApp (Embedded Signup)").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("You cancelled the connection at Meta")).to_be_visible()


def test_two_factor_set_up_then_sign_in_with_a_code(browser, live_server):
    user = User.objects.create_user(
        email="ayse@example.com", password=PASSWORD, full_name="Ayşe Yılmaz"
    )
    page = browser.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail address").fill("ayse@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("link", name="Ayşe").click()
    page.get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    page.get_by_text("Can't scan it? Enter this key instead").click()
    device = TOTPDevice.objects.get(user=user)
    key = page.locator("#secret-key").inner_text().replace(" ", "")
    assert key == base64.b32encode(device.bin_key).decode()
    page.get_by_label("Code from the app").fill(next_code(device))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them").click()
    expect(page.get_by_text("On", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail address").fill("ayse@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    page.goto(f"{live_server.url}/sign-in/code/")
    # After a wrong code, Padu checks no other for a second.
    time.sleep(1.2)
    page.get_by_label("Code").fill(next_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert AuditEvent.objects.filter(action=AuditAction.SIGNED_IN, actor=user).count() == 2


PHONE_WIDTH = 390
OVERFLOW = """() => ({
    page: document.documentElement.scrollWidth,
    tables: [...document.querySelectorAll('.table-wrap')].filter(
        wrap => wrap.scrollWidth > wrap.clientWidth).length,
})"""


def _organisation_with_everything(owner: User) -> Organization:
    """Long names, a channel of each kind (one to reconnect), members, invitations and
    an audit log: what makes pages wide."""
    organization = Organization.objects.create(
        name="Kahve Evi ve Pastanesi Kadıköy Şubesi", slug="kahve", created_by=owner
    )
    Membership.objects.create(user=owner, organization=organization, role="owner")
    Organization.objects.create(name="Bloom Flowers and Plants of Istanbul", slug="bloom")
    Membership.objects.create(
        user=owner, organization=Organization.objects.get(slug="bloom"), role="admin"
    )
    for number, kind in enumerate(["whatsapp", "messenger", "instagram"]):
        channel = make_channel(
            organization,
            kind=kind,
            external_id=str(1000 + number),
            name=f"Kahve Evi ve Pastanesi {kind}",
            handle="+90 555 000 0001" if kind == "whatsapp" else "@kahveevivepastanesi",
            status="needs_reauth" if kind == "messenger" else "active",
            reauth_reason="password_changed",
            quality_rating="RED" if kind == "whatsapp" else "",
        )
        make_conversation(channel, name="Ayşe Yılmaz-Çelikoğlu")
    member = make_user(
        "mehmet.demir.with-a-rather-long-address@kahveevivepastanesi.example",
        full_name="Mehmet Demir",
    )
    Membership.objects.create(user=member, organization=organization, role="agent")
    for number in range(3):
        invitation_issue(
            organization=organization,
            email=f"colleague{number}.with-a-long-name@kahveevivepastanesi.example",
            role="agent",
            invited_by=owner,
        )
    return organization


def test_the_organisation_pages_fit_a_phone_screen(browser, live_server):
    owner = make_user("ayse@example.com", password=PASSWORD, full_name="Ayşe Yılmaz Çelikoğlu")
    organization = _organisation_with_everything(owner)
    page = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 844}).new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("E-mail address").fill("ayse@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    slug = organization.slug
    reconnect = organization.channels.get(kind="messenger")
    pages = [
        "",
        "channels/",
        "members/",
        "audit/",
        "settings/",
        f"channels/{reconnect.pk}/disconnect/",
        "privacy/delete/",
        "settings/api-keys/",
        "settings/forwarding/",
    ]

    widths = {}
    for path in pages:
        page.goto(f"{live_server.url}/o/{slug}/{path}")
        widths[path] = page.evaluate(OVERFLOW)

    assert widths == {path: {"page": PHONE_WIDTH, "tables": 0} for path in pages}
    page.goto(f"{live_server.url}/o/{slug}/members/")
    page.locator(".switcher summary").click()
    switcher = page.locator(".switcher ul").bounding_box()
    assert switcher["x"] >= 0
    assert switcher["x"] + switcher["width"] <= PHONE_WIDTH
    assert page.evaluate(OVERFLOW) == {"page": PHONE_WIDTH, "tables": 0}
    page.get_by_role("link", name=re.compile("Bloom Flowers")).click()
    expect(page.get_by_role("heading", name="Bloom Flowers and Plants of Istanbul")).to_be_visible()

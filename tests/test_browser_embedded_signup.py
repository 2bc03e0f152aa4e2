"""WhatsApp Embedded Signup in a real browser: the channels page loads the SDK (the Meta
simulator's stand-in for Meta's), FB.login opens Meta's popup, the business picks a
number, and the page posts the code and the popup's session info to Padu."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from channels_meta.models import Channel
from tests.test_browser import browser, simulator  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_context(browser, live_server, settings, user):  # noqa: F811
    """A browser context whose session cookie signs `user` in."""
    signed_in = Client()
    signed_in.force_login(user)
    context = browser.new_context()
    cookie = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context


def test_embedded_signup_connects_the_number_chosen_in_metas_popup(
    browser,  # noqa: F811
    simulator,  # noqa: F811
    live_server,
    settings,
    world,
):
    settings.SITE_URL = live_server.url
    settings.META_WHATSAPP_CONFIG_ID = "778899"
    settings.META_JS_SDK_URL = f"{settings.META_DIALOG_URL}/en_US/sdk.js"
    chosen = list(simulator.phone_numbers.values())[1]
    context = signed_in_context(browser, live_server, settings, world.owner.user)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))

    page.goto(live_server.url + reverse("channels", args=[world.org.slug]))
    expect(page.locator("#whatsapp-signup[data-ready=true]")).to_have_count(1)
    page.get_by_label("Two-step verification PIN").fill("246810")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="WhatsApp (Embedded Signup)").click()
    popup = opened.value
    popup.get_by_label(chosen.display_phone_number, exact=False).check()
    popup.get_by_role("button", name="Continue").click()

    expect(page.get_by_text("Connected:")).to_be_visible()
    channel = Channel.objects.get()
    assert (channel.external_id, channel.waba_id) == (chosen.id, chosen.waba_id)
    assert chosen.pin == "246810"
    assert not [error for error in errors if "Content Security Policy" in error]
    context.close()


def test_closing_metas_popup_connects_nothing(
    browser,  # noqa: F811
    simulator,  # noqa: F811
    live_server,
    settings,
    world,
):
    settings.META_WHATSAPP_CONFIG_ID = "778899"
    settings.META_JS_SDK_URL = f"{settings.META_DIALOG_URL}/en_US/sdk.js"
    context = signed_in_context(browser, live_server, settings, world.owner.user)
    page = context.new_page()

    page.goto(live_server.url + reverse("channels", args=[world.org.slug]))
    expect(page.locator("#whatsapp-signup[data-ready=true]")).to_have_count(1)
    page.get_by_label("Two-step verification PIN").fill("246810")
    with page.expect_popup() as opened:
        page.get_by_role("button", name="WhatsApp (Embedded Signup)").click()
    opened.value.get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("status")).to_contain_text("nothing was connected")
    assert not Channel.objects.exists()
    context.close()

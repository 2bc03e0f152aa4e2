"""Headers every page carries: a strict Content-Security-Policy, and no caching of what a
signed-in person sees."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_forbids_inline_script_and_foreign_sources(client, world, signed_in):
    if signed_in:
        client.force_login(world.owner.user)

    policy = directives(client.get(reverse("login") if not signed_in else "/o/acme/"))

    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in " ".join(policy.values())


def test_pages_for_a_signed_in_person_are_never_stored(client, world):
    client.force_login(world.owner.user)

    for url in ("/o/acme/", reverse("profile"), reverse("channels", args=["acme"])):
        cache_control = client.get(url)["Cache-Control"]
        assert "private" in cache_control
        assert "no-store" in cache_control


INLINE = re.compile(r"<script(?![^>]*\ssrc=)|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def test_no_template_carries_inline_script_style_or_handlers(settings):
    templates = settings.BASE_DIR / "templates"
    offenders = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if INLINE.search(path.read_text())
    ]

    assert offenders == []

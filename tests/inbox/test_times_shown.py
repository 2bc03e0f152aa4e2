"""How the inbox writes times: short in rows and messages, ISO 8601 for machines, as
Django's own date filter would, in the reader's language and time zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from inbox.templatetags.inbox import iso, short_time


@pytest.mark.parametrize("language", ["en", "tr"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Istanbul", "America/Los_Angeles"])
@pytest.mark.parametrize(
    ("ago", "django_format"),
    [(timedelta(0), "H:i"), (timedelta(days=40), "j M"), (timedelta(days=800), "j M Y")],
)
def test_short_times_read_as_django_writes_them(language, zone, ago, django_format):
    moment = timezone.now() - ago
    with translation.override(language), timezone.override(zone):
        local = timezone.localtime(moment)
        same_year = local.year == timezone.localdate().year
        if django_format == "j M" and not same_year:
            django_format = "j M Y"  # early in January, forty days ago was last year

        assert short_time(moment) == date_format(local, django_format)
        assert iso(moment) == date_format(local, "c")


def test_no_time_is_written_as_nothing():
    assert short_time(None) == iso(None) == ""

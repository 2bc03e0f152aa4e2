"""Padu's settings plus a trivial view to compare the webhook endpoint against."""

from padu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

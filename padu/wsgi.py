"""WSGI entry point for gunicorn and other WSGI servers."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "padu.settings")
django.setup(set_prefix=False)

from channels_meta.webhooks.fast_lane import WebhookFastLaneHandler  # noqa: E402

application = WebhookFastLaneHandler()

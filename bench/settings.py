"""Padu's settings plus a trivial view to compare the webhook endpoint against."""

import os

from padu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/api.py's receiver listens on this machine, over plain http.
if os.environ.get("BENCH_LOCAL_RECEIVER") == "1":
    FORWARDING_ALLOW_PRIVATE_NETWORKS = True
    PRODUCTION = False

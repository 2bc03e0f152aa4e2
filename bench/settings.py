"""Padu's settings plus a trivial view to compare the webhook endpoint against."""

import os

from padu.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# bench/api.py's receiver listens on this machine, over plain http.
if os.environ.get("BENCH_LOCAL_RECEIVER") == "1":
    FORWARDING_ALLOW_PRIVATE_NETWORKS = True
    PRODUCTION = False

# bench/webhooks.py measures psycopg's connection pool against persistent connections.
if os.environ.get("BENCH_DATABASE_POOL") == "1":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 4}  # noqa: F405

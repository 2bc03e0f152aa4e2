from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from channels_meta.graph import ratelimit

ROOT = Path(__file__).resolve().parents[2]

TAKE_MANY = """
import json, sys, time
import django
django.setup()
from channels_meta.graph import ratelimit
ratelimit.LIMITS["test"] = (20.0, 2.0)
stamps = []
for _ in range(int(sys.argv[1])):
    ratelimit.acquire("test", "shared-subject", max_wait=10)
    stamps.append(time.time())
print(json.dumps(stamps))
"""


def test_the_rate_holds_across_two_processes_sharing_one_bucket():
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "padu.settings"}
    processes = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", TAKE_MANY, "30"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    stamps = sorted(
        stamp for process in processes for stamp in json.loads(process.communicate(timeout=60)[0])
    )

    assert len(stamps) == 60
    # 20 per second with a burst of 2: any one-second window holds at most 22 calls,
    # and 60 calls need at least (60 - 2) / 20 seconds.
    most_in_a_second = max(
        sum(1 for other in stamps if start <= other < start + 1.0) for start in stamps
    )
    assert most_in_a_second <= 22
    assert stamps[-1] - stamps[0] >= (60 - 2) / 20 - 0.05


def test_a_wait_longer_than_allowed_raises_with_a_retry_hint(monkeypatch):
    monkeypatch.setitem(ratelimit.LIMITS, "slow", (0.5, 1.0))
    ratelimit.acquire("slow", "recipient-1", max_wait=0)

    with pytest.raises(ratelimit.Throttled) as throttled:
        ratelimit.acquire("slow", "recipient-1", max_wait=0)

    assert 1.5 < throttled.value.retry_after <= 2.0
    ratelimit.acquire("slow", "recipient-2", max_wait=0)


def test_without_redis_each_process_keeps_its_own_buckets(monkeypatch, settings):
    settings.REDIS_URL = ""
    monkeypatch.setitem(ratelimit.LIMITS, "slow", (0.5, 1.0))
    ratelimit.acquire("slow", "local-subject", max_wait=0)

    with pytest.raises(ratelimit.Throttled):
        ratelimit.acquire("slow", "local-subject", max_wait=0)

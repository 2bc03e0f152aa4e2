"""The embedded default (SQLite, no Redis) records webhook deliveries like PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from accounts.models import Organization
from channels_meta.webhooks import processing
from channels_meta.models import Channel, WebhookEvent
from inbox.models import Conversation, Message
from tests.channels_meta import payloads as p

org = Organization.objects.create(name="Embedded", slug="embedded")
Channel.objects.create(organization=org, kind="messenger", external_id=p.PAGE_ID, name="Page")
body = p.encode(p.messaging("page", p.PAGE_ID,
                            p.customer_message(p.PAGE_ID, "psid-1", "m_1", text="Merhaba"),
                            p.customer_message(p.PAGE_ID, "psid-1", "m_2", text="Fiyat?")))
ids = [WebhookEvent.objects.store(body) for _ in range(2)]
print(sorted(str(v) for v in processing.webhook_events_process(event_ids=ids).values()))
conversation = Conversation.objects.get()
print(Message.objects.count(), conversation.unread_count, conversation.last_inbound_at is not None)
"""


def test_deliveries_are_recorded_once_on_sqlite(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    environment.update(PADU_VAR_DIR=str(tmp_path), PYTHONPATH=str(ROOT))

    def manage(*args: str) -> str:
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    manage("migrate", "--noinput")
    output = manage("shell", "-c", SCRIPT).splitlines()

    assert output[-2] == "['processed', 'processed']"
    assert output[-1] == "2 2 True"

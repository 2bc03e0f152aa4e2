"""Hands stored webhook deliveries to the workers.

Publishing a Celery task costs more than storing the delivery, so under load the web
process collects event ids for a few milliseconds and publishes them as one task from a
background thread. A process that dies with ids in hand loses nothing: those events are
stored as pending, and the sweeper enqueues them.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)


class BatchingDispatcher:
    def __init__(self, publish: Callable[[list[int]], None], interval: float) -> None:
        self.publish = publish
        self.interval = interval
        self.pending: list[int] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="webhook-dispatch", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def add(self, event_id: int) -> None:
        with self.lock:
            self.pending.append(event_id)
        self.wake.set()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            self.publish(batch)
        except Exception:  # the broker is down: the events wait for the sweeper
            logger.warning("Could not enqueue %d webhook events", len(batch), exc_info=True)

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            time.sleep(self.interval)  # let a few more arrive
            self.flush()


_dispatcher: dict[int, BatchingDispatcher] = {}


def enqueue(
    event_id: int, publish_one: Callable[[int], None], publish_many: Callable[[list[int]], None]
) -> None:
    """Enqueue a stored event: at once when WEBHOOK_ENQUEUE_BATCH_SECONDS is 0,
    otherwise with the others that arrive within that time (one dispatcher per process)."""
    interval = settings.WEBHOOK_ENQUEUE_BATCH_SECONDS
    if not interval:
        publish_one(event_id)
        return
    pid = os.getpid()
    if pid not in _dispatcher:  # also after a fork: threads do not survive it
        _dispatcher.clear()
        _dispatcher[pid] = BatchingDispatcher(publish_many, interval)
    _dispatcher[pid].add(event_id)

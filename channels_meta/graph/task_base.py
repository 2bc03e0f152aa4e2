"""The Celery task base for work that calls Meta, in the Graph layer so that every app
whose tasks call Meta can use it; and how sweeps hand such work out."""

from __future__ import annotations

from typing import Any

from celery import Task

from channels_meta.graph.errors import RateLimited, TransientError


class MetaTask(Task):
    """A task that calls Meta. When Meta, or Padu's own outbound limit, says to slow
    down (RateLimited), the task is retried once the wait it named is over, rather
    than on a backoff schedule."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except RateLimited as error:
            raise self.retry(exc=error, countdown=error.retry_after) from None


# How a task that calls Meta is retried: once the wait Meta named is over when it slows
# Padu down (MetaTask), and with a backoff from 30 s, five times at most, when it fails.
META_RETRIES: dict[str, Any] = {
    "base": MetaTask,
    "autoretry_for": (TransientError,),
    "retry_backoff": 30,
    "max_retries": 5,
}


def delay_in_batches(task: Task, ids: list[int], size: int) -> int:
    """Enqueue `task` once for every `size` of `ids` (a sweep's bounded rounds); returns
    how many ids were handed out."""
    for start in range(0, len(ids), size):
        task.delay(ids[start : start + size])
    return len(ids)

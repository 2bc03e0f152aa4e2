"""The base of Celery tasks that call Meta, in any app."""

from __future__ import annotations

from typing import Any

from celery import Task

from channels_meta.graph.errors import RateLimited


class MetaTask(Task):
    """A task that calls Meta. When Meta, or Padu's own outbound limit, says to slow
    down (RateLimited), the task is retried once the wait it named is over, rather
    than on a backoff schedule."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except RateLimited as error:
            raise self.retry(exc=error, countdown=error.retry_after) from None

from __future__ import annotations

from celery import shared_task

from privacy import services

RETRY_SECONDS = 60


@shared_task(bind=True, max_retries=60, soft_time_limit=30 * 60, time_limit=31 * 60)
def data_request_carry_out(self, request_id: int) -> str:
    """Carry out a data request; tried again a minute later while the deliveries naming
    its subject are still being recorded, or after a failure."""
    try:
        outcome = services.data_request_carry_out(request_id=request_id)
    except Exception as error:
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error
    if outcome == services.WAITING:
        raise self.retry(countdown=RETRY_SECONDS)
    return outcome

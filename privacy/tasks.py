from __future__ import annotations

from celery import shared_task

from accounts.models import Organization
from privacy.services import data_requests, retention

RETRY_SECONDS = 60


@shared_task(bind=True, max_retries=60, soft_time_limit=30 * 60, time_limit=31 * 60)
def data_request_carry_out(self, request_id: int) -> str:
    """Carry out a data request; tried again a minute later while the deliveries naming
    its subject are still being recorded, or after a failure."""
    try:
        outcome = data_requests.data_request_carry_out(request_id=request_id)
    except Exception as error:
        raise self.retry(exc=error, countdown=RETRY_SECONDS) from error
    if outcome == data_requests.WAITING:
        raise self.retry(countdown=RETRY_SECONDS)
    return outcome


@shared_task(soft_time_limit=60 * 60, time_limit=61 * 60)
def retention_enforce() -> dict[str, int]:
    """Every night: the platform's purges, then one task per organisation for its own."""
    erased = retention.platform_retention_enforce()
    for organization_id in Organization.objects.values_list("pk", flat=True):
        organization_retention_enforce.delay(organization_id)
    return erased


@shared_task(soft_time_limit=60 * 60, time_limit=61 * 60)
def organization_retention_enforce(organization_id: int) -> dict[str, int]:
    """Delete what one organisation's retention policy no longer keeps."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return {}
    return retention.organization_retention_enforce(organization=organization)

from __future__ import annotations

from celery import shared_task

from accounts.models import Organization
from privacy.services import (
    customer_requests,
    data_requests,
    deletion,
    export_jobs,
    policy,
    retention,
)


@shared_task(soft_time_limit=30 * 60, time_limit=31 * 60)
def data_request_carry_out(request_id: int) -> str:
    """Carry out a data request (a second run of the same id does nothing while the
    first holds it)."""
    return data_requests.data_request_carry_out(request_id=request_id)


def carry_out_later(request_id: int) -> None:
    """Hand a data request to a worker."""
    data_request_carry_out.delay(request_id)


@shared_task(soft_time_limit=60)
def data_requests_sweep() -> int:
    """Hand the workers the requests waiting for one: those whose task was lost or cut
    off, those that waited for deliveries, those that failed an hour ago."""
    request_ids = data_requests.data_requests_to_carry_out()
    for request_id in request_ids:
        data_request_carry_out.delay(request_id)
    return len(request_ids)


def build_later(export_id: int) -> None:
    """Hand an export to a worker."""
    export_build.delay(export_id)


@shared_task(soft_time_limit=2 * 60 * 60, time_limit=2 * 60 * 60 + 60)
def export_build(export_id: int) -> str:
    """Build an export's ZIP (a second run of the same id does nothing meanwhile)."""
    return export_jobs.export_build(export_id=export_id)


@shared_task(soft_time_limit=60)
def exports_sweep() -> int:
    """Hand the workers the exports whose task was lost or cut off."""
    export_ids = export_jobs.exports_to_build()
    for export_id in export_ids:
        export_build.delay(export_id)
    return len(export_ids)


@shared_task(soft_time_limit=5 * 60)
def data_requests_overdue_remind() -> int:
    """Every day: owners and admins of organisations with overdue requests are e-mailed."""
    return customer_requests.overdue_requests_remind()


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


def erase_later(organization_id: int) -> None:
    """Hand an organisation whose owner deleted it to a worker."""
    organization_erase.delay(organization_id)


@shared_task(soft_time_limit=60 * 60, time_limit=61 * 60)
def organization_erase(organization_id: int) -> dict[str, int]:
    """Erase a deleted organisation: its channels released at Meta, then all it held."""
    return deletion.organization_erase(organization_id=organization_id)


@shared_task(soft_time_limit=60)
def organizations_erase_sweep() -> int:
    """Take up the deleted organisations whose erasure was cut off or lost."""
    organization_ids = deletion.organizations_to_erase()
    for organization_id in organization_ids:
        organization_erase.delay(organization_id)
    return len(organization_ids)


@shared_task(soft_time_limit=30 * 60)
def policy_change_announce() -> int:
    """Every hour: users not yet told of the current privacy policy are e-mailed."""
    return policy.policy_change_announce()

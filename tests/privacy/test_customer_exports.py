"""A business's customer asks for a copy of their data: approved for the contacts an
admin matched, built by a worker, e-mailed as a signed link that works without an
account for 7 days; nothing of another customer or of the team in it; a failure is
retried."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from privacy.models import AccessLogEntry, Export, RequestKind, RequestStatus
from privacy.services import data_requests
from privacy.services.export_jobs import customer_download_url
from tests.privacy.scan import stored_files
from tests.privacy.test_customer_requests import ASKER, _ask, _verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings, tmp_path):
    settings.SITE_URL = "https://padu.example"
    settings.EXPORTS_WORK_DIR = tmp_path / "work"


def _download_link() -> str:
    return re.search(r"https://padu\.example(/privacy/exports/\S+)", mail.outbox[-1].body).group(1)


def _approve(client, world, data_request, contacts):
    client.force_login(world.owner.user)
    return client.post(
        reverse("data_request_approve", args=["acme", data_request.pk]),
        {"contacts": [contact.pk for contact in contacts]},
    )


def test_the_public_page_offers_a_copy(client, world):
    page = client.get(reverse("privacy_request", args=["acme"])).text

    assert 'value="access"' in page
    assert _ask(client, kind=RequestKind.ACCESS).status_code == 302


def test_an_approved_copy_is_built_and_e_mailed_as_a_link_that_needs_no_account(
    client, world, customers, celery_eager, committed
):
    zeynep, _ali, _other = customers
    data_request = _verified(world, kind=RequestKind.ACCESS)
    with committed():
        _approve(client, world, data_request, [zeynep])
    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED
    assert data_request.outcome == {"records_exported": 5, "files_exported": 2}
    assert mail.outbox[-1].to == [ASKER]
    assert "prepared a copy of the data it holds about you" in mail.outbox[-1].body
    client.logout()

    response = client.get(_download_link())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert json.loads(archive.read("manifest.json"))["kind"] == "customer"
    profile = json.loads(archive.read("profile.json"))
    assert [(row["username"], row["notes"]) for row in profile] == [
        ("zeynep.k", "Likes the blue mug")
    ]
    messages = json.loads(archive.read("messages.json"))
    assert [row["text"] for row in messages] == ["Where is parcel 5521?"]
    assert [row["text"] for row in json.loads(archive.read("notes.json"))] == ["Called about 5521"]
    assert sum(name.startswith("files/") for name in archive.namelist()) == 2  # photo, picture
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for foreign in (b"Ali keeps this", b"owner@acme.example", b"17800000000000077"):
        assert foreign not in everything
    assert not AccessLogEntry.objects.filter(
        path__startswith="/privacy/exports/"
    )  # no one signed in
    status = client.get(reverse("privacy_request_status", args=[data_request.confirmation_code]))
    assert "A copy of your data was e-mailed to you" in status.text


def test_a_link_forged_or_past_its_week_downloads_nothing(
    client, world, customers, celery_eager, committed
):
    zeynep, _ali, _other = customers
    data_request = _verified(world, kind=RequestKind.ACCESS)
    with committed():
        _approve(client, world, data_request, [zeynep])
    link = _download_link()
    export = Export.objects.get(data_request=data_request)

    forged = client.get(link[:-3] + "abc/")
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get(link)
    user_export = Export.objects.create(requested_by=world.owner.user, status="ready",
                                        expires_at=timezone.now() + timedelta(days=1))  # fmt: skip
    not_a_customers = client.get(customer_download_url(user_export).removeprefix(
        "https://padu.example"))  # fmt: skip

    assert forged.status_code == expired.status_code == not_a_customers.status_code == 404


def test_with_no_contact_matched_the_person_is_told_nothing_is_kept(
    client, world, customers, celery_eager, committed
):
    data_request = _verified(world, kind=RequestKind.ACCESS)

    with committed():
        _approve(client, world, data_request, [])

    data_request.refresh_from_db()
    assert data_request.status == RequestStatus.COMPLETED
    assert not Export.objects.exists()
    assert "holds no data about you" in mail.outbox[-1].body


def test_a_copy_that_cannot_be_written_fails_with_the_reason_and_is_tried_again(
    client, world, customers, settings
):
    zeynep, _ali, _other = customers
    data_request = _verified(world, kind=RequestKind.ACCESS)
    _approve(client, world, data_request, [zeynep])  # the worker is not called here
    export = Export.objects.create(data_request=data_request, organization=world.org)
    settings.EXPORTS_WORK_DIR.mkdir()
    export_file = settings.EXPORTS_WORK_DIR / f"{export.pk}.zip"
    export_file.symlink_to("/dev/full")

    failed = data_requests.data_request_carry_out(request_id=data_request.pk)
    data_request.refresh_from_db()
    assert failed == RequestStatus.FAILED
    assert data_request.reason == "No space left on device"
    assert not export_file.exists()  # the failed build's work file is cleaned up
    data_request.claimed_at = timezone.now() - timedelta(hours=2)
    data_request.save(update_fields=["claimed_at"])
    retried = data_requests.data_request_carry_out(request_id=data_request.pk)

    assert retried == RequestStatus.COMPLETED
    assert Export.objects.get(data_request=data_request).status == "ready"


def test_an_erasure_deletes_the_copies_made_for_the_persons_earlier_requests(
    client, world, customers, celery_eager, committed
):
    zeynep, _ali, _other = customers
    with committed():
        _approve(client, world, _verified(world, kind=RequestKind.ACCESS), [zeynep])
    copy = Export.objects.get()
    assert copy.file.name in stored_files()
    erasure = _verified(world, kind=RequestKind.ERASURE)

    with committed():
        _approve(client, world, erasure, [zeynep])

    erasure.refresh_from_db()
    assert erasure.outcome["exports"] == 1
    assert not Export.objects.exists()
    assert copy.file.name not in stored_files()

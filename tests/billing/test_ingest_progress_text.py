"""What a running ingest's page says before its first progress report."""

from __future__ import annotations

from pathlib import Path

from billing.models import IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from tests.billing.ingest_fakes import FakeFiles, batch, line
from tests.conftest import TenantClient


def job_page(client: TenantClient, job: IngestJob) -> str:
    response = client.get(f"/costs/ingests/{job.pk}/")
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def queued_job(tmp_path: Path) -> IngestJob:
    files = FakeFiles(tmp_path)
    return ingest_job_create(
        actor=None, paths=[files.add("jan.csv", batch([line()]))], enqueue=False
    )


def test_a_queued_ingest_says_it_waits_for_a_worker(
    admin_client_a: TenantClient, tmp_path: Path
) -> None:
    job = queued_job(tmp_path)

    shown = job_page(admin_client_a, job)

    assert "Waiting for a worker…" in shown
    assert "0 rows read" not in shown


def test_a_running_ingest_says_it_reads_the_files_until_its_first_count(
    admin_client_a: TenantClient, tmp_path: Path
) -> None:
    job = queued_job(tmp_path)
    IngestJob.objects.filter(pk=job.pk).update(status=IngestStatus.RUNNING)

    shown = job_page(admin_client_a, job)

    assert "Reading the files…" in shown
    assert "0 rows read" not in shown and "Waiting for a worker" not in shown

    IngestJob.objects.filter(pk=job.pk).update(rows_read=200_000, rows_total=400_000)
    counted = job_page(admin_client_a, job)

    assert "200000 rows read of about 400000" in counted and 'value="50"' in counted
    assert "Reading the files…" not in counted

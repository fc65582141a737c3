"""A worker whose pool process is killed mid-ingest heals itself: the job is carried out
again on its own, with its own counts, and the queue keeps moving, without a restart.
A worker that starts fails the ingests a killed process left running."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from billing.generator import write_cur_legacy
from billing.models import IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create
from billing.tasks import ingest_costs
from invoices.models import InvoiceRun, InvoiceRunStatus
from invoices.services.runs import invoice_run_request
from invoices.tasks import invoice_run
from tests.committed import committed_tenant_fixtures, on_own_connection
from tests.processes import side_database, start_worker, stop, wait_for, waiting_on

SCHEMA = "worker_recovery_t"
JANUARY = date(2026, 1, 1)
PAYER, OTHER_PAYER = "123456789012", "210987654321"
ROWS = 2000

committed, in_schema = committed_tenant_fixtures(SCHEMA)


def _queued_ingest(bill: Path, queue: str) -> IngestJob:
    job: IngestJob = on_own_connection(
        SCHEMA, lambda: ingest_job_create(actor=None, paths=[bill], enqueue=False)
    )
    ingest_costs.apply_async(args=(SCHEMA, job.pk), queue=queue)
    return job


def _left_running(bill: Path) -> IngestJob:
    """An ingest a killed process left running, with no process behind it."""

    def make() -> IngestJob:
        job = ingest_job_create(actor=None, paths=[bill], enqueue=False)
        IngestJob.objects.filter(pk=job.pk).update(status=IngestStatus.RUNNING, attempts=1)
        return job

    return on_own_connection(SCHEMA, make)


def _finished(model: Any, pk: int, unfinished: tuple[str, ...]) -> Callable[[], bool]:
    return lambda: not model.objects.filter(pk=pk, status__in=unfinished).exists()


def _kill_pool_process(worker: psutil.Process) -> int:
    (child,) = worker.children()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    return int(child.pid)


def test_a_killed_pool_process_does_not_wedge_the_worker(in_schema: None, tmp_path: Path) -> None:
    queue = f"test-recovery-{uuid.uuid4().hex[:12]}"
    log = tmp_path / "worker.log"
    bill = write_cur_legacy(
        tmp_path / "a.csv.gz", rows=ROWS, period=JANUARY, payer_id=PAYER, fmt="csv.gz"
    ).path
    other_bill = write_cur_legacy(
        tmp_path / "b.csv.gz", rows=300, period=JANUARY, payer_id=OTHER_PAYER, fmt="csv.gz"
    ).path
    stale = _left_running(other_bill)
    worker = start_worker(queue, log)
    try:
        main = psutil.Process(worker.pid)
        # A worker that starts fails what a killed process left running
        wait_for(
            "the worker to fail the job left running",
            _finished(IngestJob, stale.pk, (IngestStatus.RUNNING,)),
            seconds=60,
            log=log,
        )
        assert IngestJob.objects.get(pk=stale.pk).status == IngestStatus.FAILED

        # Given an ingest on a prefork worker that has read its file and waits to publish
        with side_database() as locker, locker.transaction():
            locker.execute(f'LOCK TABLE "{SCHEMA}".billing_loadedperiod IN EXCLUSIVE MODE')
            job = _queued_ingest(bill, queue)
            wait_for(
                "the ingest to wait for its publish",
                lambda: waiting_on(locker, SCHEMA, "billing_loadedperiod"),
                seconds=90,
                log=log,
            )
            # When its pool process is killed outright
            killed = _kill_pool_process(main)

        # Then the job is carried out again on its own, counting its rows once
        wait_for(
            "the killed ingest to finish",
            _finished(IngestJob, job.pk, (IngestStatus.QUEUED, IngestStatus.RUNNING)),
            seconds=90,
            log=log,
        )
        job.refresh_from_db()
        assert job.status == IngestStatus.SUCCEEDED, job.message
        assert (job.rows_read, job.rows_stored, job.rows_rejected) == (ROWS, ROWS, 0)
        assert job.attempts == 2

        # And the same worker takes new work: another ingest and an invoice run
        second = _queued_ingest(other_bill, queue)
        run: InvoiceRun = on_own_connection(
            SCHEMA, lambda: invoice_run_request(actor=None, period=JANUARY, enqueue=False)
        )
        invoice_run.apply_async(args=(SCHEMA, run.pk), queue=queue)
        wait_for(
            "the next ingest and invoice run",
            lambda: (
                _finished(IngestJob, second.pk, ("queued", "running"))()
                and _finished(InvoiceRun, run.pk, ("queued", "running"))()
            ),
            seconds=60,
            log=log,
        )
        assert worker.poll() is None, log.read_text()
        assert main.is_running() and killed not in {child.pid for child in main.children()}
    finally:
        stop(worker)
    second.refresh_from_db()
    assert second.status == IngestStatus.SUCCEEDED, second.message
    run.refresh_from_db()
    # Carried out: with no billing unit in this tenant, it says so.
    assert run.status == InvoiceRunStatus.FAILED
    assert run.notes == ["There are no billing units to invoice; create one first."]

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from billing.ingest.pipeline import run_ingest
from billing.ingest.reconcile import rejected_money
from billing.models import IngestJob, IngestPeriodSum, IngestStatus
from billing.services.ingests import ingest_job_create
from portal.core.errors import ApplicationError
from portal.core.text_table import text_table
from portal.tenants.models import Tenant

WORKER_HINT_AFTER_SECONDS = 20


class Command(BaseCommand):
    help = "Load bill files (CUR, CUR 2.0, FOCUS) into a tenant, wait, and print a summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Schema name of the tenant")
        parser.add_argument("paths", nargs="+", type=Path, help="Files of one or more bills")
        parser.add_argument(
            "--inline", action="store_true", help="Run here instead of on a Celery worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Tenant.objects.filter(schema_name=options["tenant"]).exists():
            raise CommandError(f"No tenant has the schema {options['tenant']!r}.")
        with schema_context(options["tenant"]):
            try:
                job = ingest_job_create(
                    actor=None, paths=options["paths"], enqueue=not options["inline"]
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(f"Ingest #{job.pk}: {len(job.files)} file(s).")
            job = run_ingest(job.pk) if options["inline"] else self._wait(job)
            self._summary(job)
        if job.status == IngestStatus.FAILED:
            raise CommandError(f"Ingest #{job.pk} failed: {job.message}")

    def _wait(self, job: IngestJob) -> IngestJob:
        started, shown = time.monotonic(), ""
        while True:
            job.refresh_from_db()
            if job.is_finished:
                return job
            line = f"{job.get_status_display()}: {job.rows_read:,} rows read"
            if job.rows_total:
                line += f" of {job.rows_total:,}"
            if line != shown:
                self.stdout.write(line)
                shown = line
            waited = time.monotonic() - started
            if job.status == IngestStatus.QUEUED and waited > WORKER_HINT_AFTER_SECONDS:
                self.stdout.write(
                    "Still queued: is a worker consuming the ingest queue? Start one with "
                    "`celery -A portal worker -Q ingest`, or run again with --inline."
                )
                started = time.monotonic()
            time.sleep(1)

    def _summary(self, job: IngestJob) -> None:
        self.stdout.write(f"{job.get_status_display()}: {job.message}")
        self.stdout.write(
            f"Rows read {job.rows_read:,}, stored {job.rows_stored:,}, "
            f"rejected {job.rows_rejected:,}."
        )
        if job.status != IngestStatus.UNCHANGED:
            self.stdout.write(rejected_money(job))
        for note in job.notes:
            self.stdout.write(f"  note: {note}")
        for key, count in job.issue_counts.items():
            self.stdout.write(f"  {count:>7,}  {key}")
        sums = job.period_sums.all()
        if sums:
            self.stdout.write(
                text_table(SUM_HEADERS, [_sum_cells(row) for row in sums], {2, 3, 4, 5, 6, 7})
            )


SUM_HEADERS = (
    "Period",
    "Payer",
    "BilledCost in files",
    "stored",
    "rejected",
    "EffectiveCost in files",
    "stored",
    "rejected",
    "Check",
)


def _sum_cells(row: IngestPeriodSum) -> list[str]:
    amounts = (
        row.source_billed_cost,
        row.stored_billed_cost,
        row.rejected_billed_cost,
        row.source_effective_cost,
        row.stored_effective_cost,
        row.rejected_effective_cost,
    )
    check = "matches" if row.reconciled else "MISMATCH"
    return [
        f"{row.billing_period_start:%Y-%m}",
        row.billing_account_id,
        *(f"{amount:f}" for amount in amounts),
        check,
    ]

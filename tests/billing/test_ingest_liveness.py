"""An ingest whose process is gone never stays `running`: it is failed, its staging tables
are dropped, and the month can be loaded again. A retried ingest counts its own rows."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

from billing.generator import write_cur_legacy
from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.pipeline import MAX_ATTEMPTS, run_ingest
from billing.models import IngestJob, IngestPeriodSum, IngestStatus, LoadedPeriod
from billing.services.ingests import ingest_job_create
from billing.tasks import ingest_costs
from portal.audit.models import AuditEntry
from portal.core.connections import claimed, side_connection
from portal.tenants.models import Tenant
from tests.committed import (
    admin_api_get,
    committed_tenant_fixtures,
    on_own_connection,
    tenant_host,
)
from tests.conftest import PASSWORD, TenantClient
from tests.processes import (
    claim_released,
    kill_outright,
    side_database,
    staging_tables,
    start_command,
    stop,
    wait_for,
    waiting_on,
)

SCHEMA = "ingest_liveness_t"
PAYER = "123456789012"
JANUARY = date(2026, 1, 1)

# A tenant whose jobs other sessions and processes see.
committed, in_schema = committed_tenant_fixtures(SCHEMA)


def _bill(folder: Path, rows: int = 400) -> Path:
    return write_cur_legacy(
        folder / "cur-2026-01.csv.gz", rows=rows, period=JANUARY, payer_id=PAYER, fmt="csv.gz"
    ).path


def _left_running(bill: Path, **counts: int) -> IngestJob:
    """An ingest as a killed process leaves it: running, with no process behind it."""

    def make() -> IngestJob:
        job = ingest_job_create(actor=None, paths=[bill], enqueue=False)
        IngestJob.objects.filter(pk=job.pk).update(
            status=IngestStatus.RUNNING, attempts=1, **counts
        )
        with side_connection(SCHEMA) as side:
            side.execute(f"CREATE TABLE billing_cost_stage_{job.pk}_0 (id bigint)")
        return job

    return on_own_connection(SCHEMA, make)


def test_a_running_ingest_without_a_process_is_failed_when_ingests_are_listed(
    in_schema: None, tmp_path: Path
) -> None:
    job = _left_running(_bill(tmp_path))

    listed = admin_api_get(SCHEMA, "/api/v1/ingests/")

    shown = next(row for row in listed["results"] if row["id"] == job.pk)
    assert shown["status"] == "failed"
    assert "stopped before it finished" in shown["message"]
    assert shown["finished_at"] is not None
    with side_database() as side:
        assert staging_tables(side, SCHEMA) == []
    assert AuditEntry.objects.filter(action="ingestjob.stopped", object_id=str(job.pk)).exists()


def test_an_ingest_stopped_after_storing_its_months_is_shown_stored(
    in_schema: None, tmp_path: Path
) -> None:
    job = _left_running(_bill(tmp_path), rows_read=400)
    zero = Decimal(0)
    # Its months were published (with their sums) before its process stopped.
    on_own_connection(
        SCHEMA,
        lambda: IngestPeriodSum.objects.create(
            job_id=job.pk,
            billing_period_start=JANUARY,
            billing_account_id=PAYER,
            source_rows=400,
            stored_rows=398,
            source_billed_cost=Decimal("12.50"),
            stored_billed_cost=Decimal("12.00"),
            rejected_billed_cost=Decimal("0.50"),
            source_effective_cost=zero,
            stored_effective_cost=zero,
            rejected_effective_cost=zero,
        ),
    )

    shown = admin_api_get(SCHEMA, f"/api/v1/ingests/{job.pk}/")

    assert shown["status"] == "succeeded"
    assert shown["message"].startswith("Stored. The process running this ingest stopped")
    assert (shown["rows_read"], shown["rows_stored"], shown["rows_rejected"]) == (400, 398, 2)


def test_the_ingest_page_shows_it_failed_too(in_schema: None, tmp_path: Path) -> None:
    job = _left_running(_bill(tmp_path))
    client = TenantClient(tenant_host(SCHEMA))
    assert client.login(username="admin", password=PASSWORD)

    page = client.get(f"/costs/ingests/{job.pk}/").content.decode()

    assert "stopped before it finished" in page
    assert IngestJob.objects.get(pk=job.pk).status == IngestStatus.FAILED


def test_a_running_ingest_whose_process_lives_stays_running(
    in_schema: None, tmp_path: Path
) -> None:
    job = _left_running(_bill(tmp_path))
    # Another session holds the job's claim, as the process carrying it out does.
    with side_connection(SCHEMA) as other, claimed("ingest", job.pk, on=other) as held:
        assert held
        assert admin_api_get(SCHEMA, f"/api/v1/ingests/{job.pk}/")["status"] == "running"
        with side_database() as side:
            assert staging_tables(side, SCHEMA) == [f"billing_cost_stage_{job.pk}_0"]
    # Its process gone, the next look marks it failed.
    assert admin_api_get(SCHEMA, f"/api/v1/ingests/{job.pk}/")["status"] == "failed"


def test_a_job_row_another_transaction_holds_is_left_for_a_later_look(
    in_schema: None, tmp_path: Path
) -> None:
    job = _left_running(_bill(tmp_path))
    looked: list[list[int]] = []
    with side_database() as other, other.transaction():
        other.execute(
            f'SELECT id FROM "{SCHEMA}".billing_ingestjob WHERE id = %s FOR UPDATE', [job.pk]
        )
        look = threading.Thread(
            target=lambda: looked.append(on_own_connection(SCHEMA, ingest_jobs_fail_stopped))
        )
        look.start()
        look.join(timeout=20)
        assert looked == [[]], "the look waited for the row"
    assert ingest_jobs_fail_stopped() == [job.pk]


def test_an_inline_ingest_killed_mid_way_is_failed_and_the_month_loads_again(
    in_schema: None, tmp_path: Path
) -> None:
    bill = _bill(tmp_path, rows=2000)
    command = ["ingest_costs", "--tenant", SCHEMA, str(bill), "--inline"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with side_database() as locker:
        # Given an inline ingest that has staged its rows and waits to publish them
        with locker.transaction():
            locker.execute(f'LOCK TABLE "{SCHEMA}".billing_loadedperiod IN EXCLUSIVE MODE')
            first = start_command(command, first_log)
            try:
                wait_for(
                    "the ingest to wait for its publish",
                    lambda: waiting_on(locker, SCHEMA, "billing_loadedperiod"),
                    seconds=60,
                    log=first_log,
                )
                assert staging_tables(locker, SCHEMA)
                # When its process is killed outright
                kill_outright(first)
            finally:
                stop(first)
        job = IngestJob.objects.order_by("-pk").first()
        assert job is not None and job.status == IngestStatus.RUNNING
        wait_for("its session to end", lambda: claim_released(job.pk), seconds=30, log=first_log)

        # Then the next ingest of the month marks it failed, drops its tables, and loads
        second = start_command(command, second_log)
        try:
            assert second.wait(timeout=90) == 0, second_log.read_text()
        finally:
            stop(second)
        assert "Succeeded: Stored 2026-01 of payer 123456789012." in second_log.read_text()
        job.refresh_from_db()
        assert job.status == IngestStatus.FAILED
        assert "stopped before it finished" in job.message
        assert staging_tables(locker, SCHEMA) == []
    assert LoadedPeriod.objects.get(billing_account_id=PAYER).job_id != job.pk


def test_a_retried_ingest_reports_its_own_counts(tenant_a: Tenant, tmp_path: Path) -> None:
    bill = _bill(tmp_path, rows=300)
    job = ingest_job_create(actor=None, paths=[bill], enqueue=False)
    # What a killed first attempt had counted
    IngestJob.objects.filter(pk=job.pk).update(
        status=IngestStatus.RUNNING, attempts=1, rows_read=250, rows_rejected=3
    )

    job = run_ingest(job.pk)

    assert job.status == IngestStatus.SUCCEEDED, job.message
    assert (job.rows_read, job.rows_stored, job.rows_rejected) == (300, 300, 0)
    assert job.attempts == 2


def test_an_ingest_that_keeps_killing_its_worker_is_given_up(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    job = ingest_job_create(actor=None, paths=[_bill(tmp_path, rows=10)], enqueue=False)
    IngestJob.objects.filter(pk=job.pk).update(status=IngestStatus.RUNNING, attempts=MAX_ATTEMPTS)

    job = run_ingest(job.pk)

    assert job.status == IngestStatus.FAILED
    assert f"stopped {MAX_ATTEMPTS} times" in job.message
    assert not LoadedPeriod.objects.exists()


def test_a_job_another_process_holds_is_left_to_it_when_run_eagerly(
    tenant_a: Tenant, tmp_path: Path
) -> None:
    job = ingest_job_create(actor=None, paths=[_bill(tmp_path, rows=10)], enqueue=False)
    IngestJob.objects.filter(pk=job.pk).update(status=IngestStatus.RUNNING, attempts=1)
    with side_connection("alpha") as other, claimed("ingest", job.pk, on=other):
        assert ingest_costs.apply(args=("alpha", job.pk)).get() == "running"
    assert IngestJob.objects.get(pk=job.pk).attempts == 1

"""An invoice run whose process is gone never stays `running`: it is failed, saying what it
left, and the period can be run again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from invoices.models import Invoice, InvoiceRun, InvoiceRunStatus, InvoiceStatus
from invoices.services.drafts import invoice_drafts_create
from invoices.services.runs import invoice_run_request
from invoices.tasks import fail_stopped_invoice_runs
from portal.audit.models import AuditEntry
from portal.core.connections import claimed, side_connection
from tests.allocation.run_helpers import committed_tenant_with_bills
from tests.committed import admin_api_get, on_own_connection, tenant_host
from tests.conftest import PASSWORD, TenantClient
from tests.invoices.world import JAN, allocate, plan, seller, unit
from tests.processes import (
    claim_released,
    kill_outright,
    side_database,
    start_command,
    statement_waits_for_lock,
    stop,
    wait_for,
)

SCHEMA = "invoice_liveness_t"
STOPPED = "The process running it stopped before it finished"


@pytest.fixture(scope="module")
def committed(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A committed, allocated month with two priced units, which other processes see."""
    with committed_tenant_with_bills(django_db_blocker, SCHEMA, tmp_path_factory) as files:
        allocate(files)
        seller()
        standard = plan(everything="10")
        unit("Globex", standard)
        unit("Initech", standard)
        yield


@pytest.fixture
def in_schema(committed: None, db: Any, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    connection.set_schema(SCHEMA)  # type: ignore[attr-defined]


def _left_running(*, drafted: bool = False) -> InvoiceRun:
    """A run as a killed process leaves it: running, with no process behind it."""

    def make() -> InvoiceRun:
        run = invoice_run_request(actor=None, period=JAN, enqueue=False)
        InvoiceRun.objects.filter(pk=run.pk).update(status=InvoiceRunStatus.RUNNING)
        if drafted:  # it had committed its drafts before it stopped
            invoice_drafts_create(period=JAN, run=run)
        return run

    return on_own_connection(SCHEMA, make)


def test_a_running_run_without_a_process_is_failed_when_runs_are_listed(
    in_schema: None,
) -> None:
    left = _left_running(drafted=True)

    listed = admin_api_get(SCHEMA, "/api/v1/invoice-runs/?period=2026-01")

    shown = next(row for row in listed["results"] if row["id"] == left.pk)
    assert shown["status"] == "failed"
    assert shown["finished_at"] is not None
    assert shown["notes"][0].startswith(STOPPED)
    assert shown["notes"][1].startswith("It had made 2 draft(s) and issued 0 invoice(s)")
    assert AuditEntry.objects.filter(action="invoicerun.stopped", object_id=str(left.pk)).exists()


def test_the_run_page_shows_it_failed_too(in_schema: None) -> None:
    left = _left_running()
    client = TenantClient(tenant_host(SCHEMA))
    assert client.login(username="admin", password=PASSWORD)

    page = client.get(f"/invoices/runs/{left.pk}/").content.decode()

    assert STOPPED in page
    assert "It had made no drafts." in page
    assert InvoiceRun.objects.get(pk=left.pk).status == InvoiceRunStatus.FAILED


def test_a_running_run_whose_process_lives_stays_running(in_schema: None) -> None:
    left = _left_running()
    # Another session holds the run's claim, as the process carrying it out does.
    with side_connection(SCHEMA) as other, claimed("invoices", left.pk, on=other) as held:
        assert held
        assert admin_api_get(SCHEMA, f"/api/v1/invoice-runs/{left.pk}/")["status"] == "running"
    # Its process gone, the next look marks it failed.
    assert admin_api_get(SCHEMA, f"/api/v1/invoice-runs/{left.pk}/")["status"] == "failed"


def test_a_worker_that_starts_fails_the_runs_left_running(in_schema: None) -> None:
    left = _left_running()

    on_own_connection(SCHEMA, lambda: fail_stopped_invoice_runs(sender=None))

    left.refresh_from_db()
    assert left.status == InvoiceRunStatus.FAILED
    assert left.notes[0].startswith(STOPPED)


def test_an_inline_run_killed_mid_way_is_failed_and_the_period_runs_again(
    in_schema: None, tmp_path: Path
) -> None:
    command = ["invoice_run", "--tenant", SCHEMA, "--period", "2026-01"]
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    # Given an inline run that has started and waits to read the billing units
    with side_database() as locker, locker.transaction():
        locker.execute(f'LOCK TABLE "{SCHEMA}".invoices_billingunit IN ACCESS EXCLUSIVE MODE')
        first = start_command(command, first_log)
        try:
            wait_for(
                "the run to wait for the units",
                lambda: statement_waits_for_lock("%invoices_billingunit%"),
                seconds=25,
                log=first_log,
            )
            killed = InvoiceRun.objects.order_by("-pk").first()
            assert killed is not None and killed.status == InvoiceRunStatus.RUNNING
            # When its process is killed outright
            kill_outright(first)
        finally:
            stop(first)
    wait_for("its session to end", lambda: claim_released(killed.pk), seconds=15, log=first_log)
    killed.refresh_from_db()
    assert killed.status == InvoiceRunStatus.RUNNING

    # Then the next run of the period marks it failed and drafts every unit's invoice
    second = start_command(command, second_log)
    try:
        assert second.wait(timeout=25) == 0, second_log.read_text()
    finally:
        stop(second)
    assert ": succeeded" in second_log.read_text()
    killed.refresh_from_db()
    assert killed.status == InvoiceRunStatus.FAILED
    assert killed.notes == [killed.notes[0], "It had made no drafts."]
    assert killed.notes[0].startswith(STOPPED)
    latest = InvoiceRun.objects.order_by("-pk").first()
    assert latest is not None and latest.status == InvoiceRunStatus.SUCCEEDED
    drafts = Invoice.objects.filter(run=latest, status=InvoiceStatus.DRAFT)
    assert sorted(drafts.values_list("unit__value", flat=True)) == ["Globex", "Initech"]

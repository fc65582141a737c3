"""Invoice runs: every unit drafted (and issued) in one job, with progress and notes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection as default_connection

from invoices.models import Invoice, InvoiceRun, InvoiceRunStatus, InvoiceStatus
from invoices.services import runs
from invoices.services.runs import invoice_run_execute, invoice_run_request
from portal.audit.models import AuditEntry
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import JAN, allocate, plan, seller, unit


def test_a_run_drafts_issues_and_names_what_it_could_not_invoice(
    files: FakeFiles, monkeypatch: Any
) -> None:
    allocate(files)
    seller()
    standard = plan(everything="5")
    unit("Globex", standard)
    unit("Initech", standard)
    unit("Hooli", standard)
    unit("Umbrella", None)
    seen: list[tuple[int, int]] = []
    record = runs._Progress.__call__

    def spy(self: Any, done: int, **kw: Any) -> None:
        seen.append((done, self.run.units_total))
        record(self, done, **{**kw, "force": True})

    monkeypatch.setattr(runs._Progress, "__call__", spy)
    run = InvoiceRun.objects.create(period=JAN, issue=True)

    run = invoice_run_execute(actor=None, run=run)

    assert run.status == InvoiceRunStatus.SUCCEEDED
    assert run.notes == [
        "3 invoice(s) drafted, 2 issued.",
        "Umbrella Inc.: has no pricing plan; set one to invoice it.",
        "Hooli Inc.: nothing was allocated to 'Hooli' in 2026-01; its draft has no lines and "
        "is not issued.",
    ]
    issued = Invoice.objects.filter(run=run, status=InvoiceStatus.ISSUED)
    assert sorted(issued.values_list("unit__value", flat=True)) == ["Globex", "Initech"]
    assert seen[-1] == (7, 7) and [done for done, _ in seen] == sorted(d for d, _ in seen)
    assert run.progress_percent == 100
    assert AuditEntry.objects.filter(action="invoicerun.execute", object_id=str(run.pk)).exists()


def test_a_redelivered_run_changes_nothing_issued(files: FakeFiles) -> None:
    allocate(files)
    seller()
    unit("Globex", plan())
    run = invoice_run_execute(actor=None, run=InvoiceRun.objects.create(period=JAN, issue=True))
    number = Invoice.objects.get(unit__value="Globex").number

    InvoiceRun.objects.filter(pk=run.pk).update(status=InvoiceRunStatus.RUNNING)
    again = invoice_run_execute(actor=None, run=InvoiceRun.objects.get(pk=run.pk))

    assert again.status == InvoiceRunStatus.SUCCEEDED
    assert list(Invoice.objects.values_list("number", flat=True)) == [number]


def test_a_run_without_units_fails_with_a_reason(files: FakeFiles) -> None:
    allocate(files)
    run = InvoiceRun.objects.create(period=JAN)

    with pytest.raises(Exception, match="no billing units"):
        invoice_run_execute(actor=None, run=run)

    run.refresh_from_db()
    assert run.status == InvoiceRunStatus.FAILED
    assert run.notes == ["There are no billing units to invoice; create one first."]


def test_requesting_a_run_queues_it_after_commit(
    files: FakeFiles, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from invoices import tasks

    allocate(files)
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.invoice_run, "delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        run = invoice_run_request(actor=None, period=JAN.replace(day=17), issue=True)

    assert run.period == JAN and run.status == InvoiceRunStatus.QUEUED
    assert queued == [(default_connection.schema_name, run.pk)]  # type: ignore[attr-defined]

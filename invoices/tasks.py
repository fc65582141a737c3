"""Celery tasks of invoices; `portal.celery` routes them to the invoices queue."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from invoices.models import InvoiceRun
from invoices.services.runs import invoice_run_execute, invoice_runs_fail_stopped
from portal.core.liveness import in_every_tenant
from portal.core.tasks import tenant_task


@tenant_task(name="invoices.tasks.invoice_run", acks_late=True)
def invoice_run(schema_name: str, run_id: int) -> int:
    """Carry out a queued invoice run; a redelivered one drafts again (drafts only)."""
    run = InvoiceRun.objects.get(pk=run_id)
    invoice_run_execute(actor=run.created_by, run=run)
    return run.pk


@worker_ready.connect
def fail_stopped_invoice_runs(**kwargs: Any) -> None:
    """When a worker starts, no invoice run is left `running` by a process that is gone."""
    in_every_tenant(invoice_runs_fail_stopped, "stopped invoice runs")

"""Celery tasks of invoices; `portal.celery` routes them to the invoices queue."""

from __future__ import annotations

from invoices.models import InvoiceRun
from invoices.services.runs import invoice_run_execute
from portal.core.tasks import tenant_task


@tenant_task(name="invoices.tasks.invoice_run", acks_late=True)
def invoice_run(schema_name: str, run_id: int) -> int:
    """Carry out a queued invoice run; a redelivered one drafts again (drafts only)."""
    run = InvoiceRun.objects.get(pk=run_id)
    invoice_run_execute(actor=run.created_by, run=run)
    return run.pk

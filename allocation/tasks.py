"""Celery tasks of allocation; `portal.celery` routes them to the allocation queue."""

from __future__ import annotations

from datetime import date

from allocation.engine.run import allocation_run_execute
from allocation.models import CostCategory
from portal.core.tasks import tenant_task


@tenant_task(name="allocation.tasks.allocation_run", acks_late=True)
def allocation_run(schema_name: str, category_id: int, period_iso: str) -> int:
    """Allocate one category for the month of `period_iso`; a retry replaces the run."""
    category = CostCategory.objects.get(pk=category_id)
    run = allocation_run_execute(
        actor=None, category=category, period=date.fromisoformat(period_iso)
    )
    return run.pk

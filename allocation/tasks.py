"""Celery tasks of allocation; `portal.celery` routes them to the allocation queue."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from allocation.engine.run import allocation_run_execute, allocation_runs_fail_stopped
from allocation.models import AllocationRun
from portal.core.liveness import in_every_tenant
from portal.core.tasks import tenant_task


@tenant_task(name="allocation.tasks.allocation_run", acks_late=True)
def allocation_run(schema_name: str, run_id: int) -> int | None:
    """Carry out a queued allocation run; a redelivered one that succeeded is left alone.

    A run deleted meanwhile (replaced by a later run of its category) is skipped.
    """
    run = AllocationRun.objects.select_related("category").filter(pk=run_id).first()
    if run is None:
        return None
    return allocation_run_execute(actor=run.created_by, run=run).pk


@worker_ready.connect
def fail_stopped_allocation_runs(**kwargs: Any) -> None:
    """When a worker starts, no allocation is left `running` by a process that is gone."""
    in_every_tenant(allocation_runs_fail_stopped, "stopped allocation runs")

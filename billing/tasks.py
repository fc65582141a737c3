"""Celery tasks of billing; `ingest_*` tasks run on the ingest queue."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.pipeline import run_ingest
from billing.transfer_effects import transfer_effects_apply
from portal.core.liveness import in_every_tenant
from portal.core.tasks import tenant_task

# How long a delivery of a job that another process holds waits before it looks again.
CLAIM_RETRY_SECONDS = 10


@tenant_task(name="billing.tasks.ingest_costs", acks_late=True, max_retries=None)
def ingest_costs(schema_name: str, job_id: int) -> str:
    """Load the files of ingest `job_id`; a retry finishes or repeats it safely.

    While another process holds the job (a second delivery of a running task, or a killed
    worker whose database session PostgreSQL has not closed yet), this delivery looks
    again later: it carries the job out once the claim is free, or finds it finished.
    """
    job = run_ingest(job_id)
    if not job.is_finished and not ingest_costs.request.is_eager:  # eager: no waiting
        raise ingest_costs.retry(countdown=CLAIM_RETRY_SECONDS)
    return str(job.status)


@worker_ready.connect
def fail_stopped_ingests(**kwargs: Any) -> None:
    """When a worker starts, no ingest is left `running` by a process that is gone."""
    in_every_tenant(ingest_jobs_fail_stopped, "stopped ingests")


@tenant_task(name="billing.tasks.transfer_effects", acks_late=True)
def transfer_effects(schema_name: str, transfer_id: int) -> list[str]:
    """Apply an accepted or withdrawn transfer to the loaded months; safe to run again."""
    return [f"{m:%Y-%m}" for m in transfer_effects_apply(transfer_id=transfer_id)]

"""Celery tasks of billing; `ingest_*` tasks run on the ingest queue."""

from __future__ import annotations

from billing.ingest.pipeline import run_ingest
from portal.core.tasks import tenant_task


@tenant_task(name="billing.tasks.ingest_costs", acks_late=True)
def ingest_costs(schema_name: str, job_id: int) -> str:
    """Load the files of ingest `job_id`; a retry finishes or repeats it safely."""
    return str(run_ingest(job_id).status)

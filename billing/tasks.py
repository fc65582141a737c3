"""Celery tasks of billing; `ingest_*` tasks run on the ingest queue."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready
from django.db import connections
from django_tenants.utils import get_public_schema_name, schema_context

from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.pipeline import run_ingest
from portal.core.tasks import tenant_task
from portal.tenants.models import Tenant

logger = logging.getLogger(__name__)

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
    try:
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name())
        for schema in tenants.values_list("schema_name", flat=True):
            with schema_context(schema):
                ingest_jobs_fail_stopped()
    except Exception:  # the worker serves its queues whatever happens here
        logger.exception("Looking for stopped ingests failed")
    finally:
        connections.close_all()

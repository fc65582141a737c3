"""Ingests whose process is gone are failed, not left `running` forever.

A running ingest holds its claim (`connections.claimed`, a session-level advisory lock)
for as long as its process lives: when the process is killed, its connection closes and
PostgreSQL frees the claim. So a `running` job whose claim another session can take has
no process behind it. Checked whenever ingests are listed or shown, when an ingest starts
and when a worker starts.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from django.db import connection
from django.utils import timezone

from billing.ingest.connections import claimed, drop_staging_tables, side_connection
from billing.ingest.staging import STAGE_PREFIX
from billing.models import IngestJob, IngestPeriodSum, IngestStatus
from portal.audit.services import audit_record

logger = logging.getLogger(__name__)

STOPPED_MESSAGE = (
    "The process running this ingest stopped before it finished (it was killed, or its "
    "machine or database connection went down). Nothing of it was stored; start the "
    "ingest again."
)
# Publishing commits before the job's report is written: a process stopped in between
# has stored its months, and its sums per month are kept.
STOPPED_AFTER_STORING_MESSAGE = (
    "Stored. The process running this ingest stopped after storing its months but "
    "before it finished its report, so its notes and issues may be incomplete."
)


def ingest_jobs_fail_stopped(*, keep: int | None = None) -> list[int]:
    """Mark failed every running ingest of this schema whose process is gone (succeeded,
    if it stored its months before it stopped), and drop its staging tables; the ids of
    those jobs. `keep` is a job the caller is about to carry out itself (a retry)."""
    running = IngestJob.objects.filter(status=IngestStatus.RUNNING)
    job_ids = [pk for pk in running.values_list("pk", flat=True) if pk != keep]
    if not job_ids:
        return []
    stopped = []
    schema = connection.schema_name  # type: ignore[attr-defined]
    # Another session than Django's: a session's own advisory locks are reentrant.
    with side_connection(schema) as side:
        # A job row or table locked by an open transaction (the caller's own, say) is left
        # for a later look.
        side.execute("SET lock_timeout = '2s'")
        for job_id in job_ids:
            # While the claim is held here, no retry can start the job.
            with claimed("ingest", job_id, on=side) as gone:
                if gone and _clean_up(side, job_id):
                    stopped.append(job_id)
    for job in IngestJob.objects.filter(pk__in=stopped):
        logger.warning("Ingest %s in %s: its process stopped; now %s", job.pk, schema, job.status)
        audit_record(
            actor=None,
            action="ingestjob.stopped",
            instance=job,
            after={"status": job.status, "message": job.message},
        )
    return stopped


def _clean_up(side: psycopg.Connection[Any], job_id: int) -> bool:
    """Drop the stopped job's staging tables and finish it; whether it was finished here."""
    try:
        drop_staging_tables(f"{STAGE_PREFIX}{job_id}_", on=side)
        return _finish_stopped(side, job_id)
    except psycopg.errors.LockNotAvailable:
        return False


def _finish_stopped(side: psycopg.Connection[Any], job_id: int) -> bool:
    """Finish the job if it is still running (committed at once); whether it was.

    Its sums per month are written in the transaction that publishes them, so a job that
    has them stored its months.
    """
    sums = side.execute(
        "SELECT count(*), coalesce(sum(source_rows), 0), coalesce(sum(stored_rows), 0) "
        f"FROM {IngestPeriodSum._meta.db_table} WHERE job_id = %s",
        [job_id],
    ).fetchone()
    months, read, stored = sums if sums else (0, 0, 0)
    outcome = (
        [IngestStatus.SUCCEEDED, STOPPED_AFTER_STORING_MESSAGE, read, stored, read - stored]
        if months
        else [IngestStatus.FAILED, STOPPED_MESSAGE, None, 0, None]
    )
    cursor = side.execute(
        f"UPDATE {IngestJob._meta.db_table} SET status = %s, message = %s, "
        "rows_read = coalesce(%s, rows_read), rows_stored = %s, "
        "rows_rejected = coalesce(%s, rows_rejected), finished_at = %s "
        "WHERE id = %s AND status = %s",
        [*outcome, timezone.now(), job_id, IngestStatus.RUNNING],
    )
    return bool(cursor.rowcount)

"""Ingests whose process is gone are failed, not left `running` forever.

A running ingest holds its claim for as long as its process lives (`portal.core.liveness`
says how). Checked whenever ingests are listed or shown, when an ingest starts and when a
worker starts.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.utils import timezone

from billing.ingest.connections import drop_staging_tables
from billing.ingest.staging import STAGE_PREFIX
from billing.models import IngestJob, IngestPeriodSum, IngestStatus
from portal.core.liveness import work_fail_stopped

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
    return work_fail_stopped(
        kind="ingest",
        running=IngestJob.objects.filter(status=IngestStatus.RUNNING),
        finish=_clean_up,
        audited=("status", "message"),
        keep=keep,
    )


def _clean_up(side: psycopg.Connection[Any], job_id: int) -> bool:
    """Drop the stopped job's staging tables and finish it; whether it was finished here."""
    drop_staging_tables(f"{STAGE_PREFIX}{job_id}_", on=side)
    return _finish_stopped(side, job_id)


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

"""One ingest from files to stored, reconciled line items.

Reading and normalizing run in a thread ahead of the COPY, so the two overlap on a
2-core machine (pyarrow and psycopg release the GIL for their heavy parts).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing.ingest.connections import drop_staging_tables, raw_cursor
from billing.ingest.contract import BillFileError, NormalizedBatch, PeriodKey
from billing.ingest.duplicates import LineItemRegister, repeat_notes
from billing.ingest.findings import Findings
from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.publish import publish_loads
from billing.ingest.readers import BillReader, open_bill
from billing.ingest.reconcile import (
    IngestCheckError,
    check_sums,
    period_sums_record,
    require_stored_rows,
)
from billing.ingest.registration import register_seen_accounts
from billing.ingest.staging import STAGE_PREFIX, PeriodLoad, StagingLoader
from billing.ingest.summaries import BatchGroups, RollupGrouper
from billing.ingest.tagsets import TagSetResolver
from billing.models import IngestJob, IngestStatus, LoadedPeriod, TagKey
from billing.signals import bills_published
from portal.core.connections import claimed, side_connection

logger = logging.getLogger(__name__)
PROGRESS_EVERY_ROWS = 100_000
# Small enough that COPY starts soon after reading does, large enough to keep per-batch
# overhead low.
CHUNK_ROWS = 50_000
# A job whose worker is killed is delivered again; one that kills every worker stops here.
MAX_ATTEMPTS = 3


def run_ingest(job_id: int) -> IngestJob:
    """Run (or finish) the ingest `job_id` in the current tenant schema; safe to retry.

    A second delivery of the task while the first still runs leaves it to the first.
    Ingests whose process is gone are marked failed first (`liveness`).
    """
    ingest_jobs_fail_stopped(keep=job_id)
    with claimed("ingest", job_id) as mine:
        job = IngestJob.objects.get(pk=job_id)
        if job.is_finished or not mine:
            return job
        return _run(job)


def _run(job: IngestJob) -> IngestJob:
    drop_staging_tables(f"{STAGE_PREFIX}{job.pk}_")
    # Each attempt reports its own counts, not the sum of a killed attempt's and its own.
    job.rows_read = job.rows_stored = job.rows_rejected = 0
    job.issue_counts = {}
    job.status, job.started_at = IngestStatus.RUNNING, timezone.now()
    job.attempts += 1
    job.save(
        update_fields=[
            *("status", "started_at", "attempts"),
            *("rows_read", "rows_stored", "rows_rejected", "issue_counts"),
        ]
    )
    if job.attempts > MAX_ATTEMPTS:
        return _finish(job, IngestStatus.FAILED, _too_many_attempts())
    if LoadedPeriod.objects.filter(job__fingerprint=job.fingerprint).exists():
        return _finish(job, IngestStatus.UNCHANGED, "These files are what is stored already.")
    findings = Findings()
    try:
        loads = _load_and_publish(job, findings)
    except (BillFileError, IngestCheckError) as exc:
        drop_staging_tables(f"{STAGE_PREFIX}{job.pk}_")
        findings.save(job)
        return _finish(job, IngestStatus.FAILED, str(exc), findings)
    except Exception:
        logger.exception("Ingest %s failed", job.pk)
        drop_staging_tables(f"{STAGE_PREFIX}{job.pk}_")
        return _finish(job, IngestStatus.FAILED, "An internal error stopped the ingest.")
    findings.save(job)
    job.rows_stored = sum(load.stored.rows for load in loads)
    periods = ", ".join(f"{period[:7]} of payer {payer}" for period, payer in _keys(loads))
    finished = _finish(job, IngestStatus.SUCCEEDED, f"Stored {periods}.", findings)
    months = sorted({period for period, _ in _keys(loads)})
    transaction.on_commit(lambda: bills_published.send(sender=IngestJob, months=months))
    return finished


def _too_many_attempts() -> str:
    return (
        f"The process carrying out this ingest stopped {MAX_ATTEMPTS} times before it "
        "finished (killed, e.g. for lack of memory); it is not tried again. Nothing of it "
        "was stored."
    )


def _load_and_publish(job: IngestJob, findings: Findings) -> list[PeriodLoad]:
    aliases = tag_aliases()
    readers = [
        open_bill(
            Path(f["path"]), display_name=f["name"], tag_aliases=aliases, chunk_rows=CHUNK_ROWS
        )
        for f in job.files
    ]
    job.formats = [f"{reader.format} {reader.version}" for reader in readers]
    job.notes = [*repeat_notes(job.files), *(note for reader in readers for note in reader.notes)]
    totals = [reader.rows_total for reader in readers]
    job.rows_total = sum(t for t in totals if t) if all(totals) else None
    job.save(update_fields=["formats", "notes", "rows_total"])
    with side_connection(connection.schema_name) as side:  # type: ignore[attr-defined]
        with transaction.atomic():
            loader = StagingLoader(raw_cursor(), job_id=job.pk, tag_sets=TagSetResolver(side))
            reported = 0
            for batch, groups in _read_ahead(readers, loader.rollup):
                loader.write(batch, groups)
                findings.add(batch.issues, batch.issue_counts)
                job.rows_read += batch.rows_read
                if job.rows_read - reported >= PROGRESS_EVERY_ROWS:
                    reported = job.rows_read
                    _report_progress(side, job)
            loads = list(loader.finish().values())
            check_sums(loads)
        _report_progress(side, job)
    require_stored_rows(job, loads, findings)
    stored = [load for load in loads if load.stored.rows]
    publish_loads(job=job, loads=stored, tag_keys=summary_tag_keys())
    period_sums_record(job=job, loads=[load for load in loads if not load.stored.rows])
    drop_staging_tables(f"{STAGE_PREFIX}{job.pk}_")
    job.notes += register_seen_accounts(actor=job.created_by, loads=stored)
    job.rows_rejected = job.rows_read - sum(load.stored.rows for load in loads)
    return loads


def _read_ahead(
    readers: list[BillReader], rollup: RollupGrouper
) -> Iterator[tuple[NormalizedBatch, dict[PeriodKey, BatchGroups] | None]]:
    """The readers' batches with their rollup groups, made in a thread two batches ahead.

    Only that thread uses `rollup` until the last batch is handed over.
    """
    batches: queue.Queue[Any] = queue.Queue(maxsize=2)
    done = object()

    def produce() -> None:
        repeats = LineItemRegister()
        try:
            for reader in readers:
                for batch in reader.batches():
                    repeats.drop_repeats(batch)
                    batches.put((batch, rollup.group(batch.table)))
            batches.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            batches.put(exc)

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    while (item := batches.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def _report_progress(side: Any, job: IngestJob) -> None:
    side.execute(
        "UPDATE billing_ingestjob SET rows_read = %s, rows_total = %s WHERE id = %s",
        (job.rows_read, job.rows_total, job.pk),
    )


def _finish(
    job: IngestJob, status: str, message: str, findings: Findings | None = None
) -> IngestJob:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    if findings is not None:
        job.issue_counts = findings.as_counts()
    job.save()
    return job


def _keys(loads: list[PeriodLoad]) -> list[tuple[str, str]]:
    return sorted(load.key for load in loads if load.stored.rows)


def tag_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for key in TagKey.objects.all():
        for alias in [key.name, *key.aliases]:
            aliases[str(alias)] = key.name
    return aliases


def summary_tag_keys() -> list[str]:
    return list(TagKey.objects.filter(summarize=True).values_list("name", flat=True))

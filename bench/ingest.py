"""Ingest benchmark: a generated CUR month, end to end, against a raw COPY floor.

    .venv/bin/python -m bench.ingest [--rows 1000000] [--format csv.gz]

Prints rows per second, peak memory of the ingesting process, and the ratio of the total
time to a raw COPY of the same normalized rows into an identical unindexed table created
in the same transaction (the floor). Targets on 2 cores: >= 100,000 rows/s, <= 2x floor,
peak memory < 1.5 GB.
"""

from __future__ import annotations

import argparse
import io
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.csv as pcsv
from django.db import connection, transaction
from django_tenants.utils import schema_context

from bench.common import SCHEMA, bill_file, ensure_tenant
from billing.ingest.pipeline import run_ingest, tag_aliases
from billing.ingest.readers import open_bill
from billing.ingest.staging import TABLE_COLUMNS
from billing.models import IngestJob, IngestStatus
from billing.services.ingests import ingest_job_create


class PeakMemory:
    """Samples this process's resident memory while running."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def floor_seconds(path: Path, rows: int) -> float:
    """Time a raw COPY of the normalized rows into an identical, unindexed new table."""
    spool = path.with_suffix(".normalized.csv")
    aliases = tag_aliases()
    next_id = 1
    with spool.open("wb") as out:
        for batch in open_bill(path, tag_aliases=aliases).batches():
            table = batch.table
            ids = pa.array(range(next_id, next_id + table.num_rows)).cast(pa.string())
            next_id += table.num_rows
            table = table.append_column("id", ids)
            table = table.append_column("tag_set_id", pa.nulls(table.num_rows, pa.string()))
            buffer = io.BytesIO()
            pcsv.write_csv(
                table.select(list(TABLE_COLUMNS)), buffer, pcsv.WriteOptions(include_header=False)
            )
            out.write(buffer.getvalue())
    columns = ", ".join(TABLE_COLUMNS)
    started = time.perf_counter()
    # Created, filled and committed like a staging table, so both pay the same flush.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_floor (LIKE billing_cost_line_item)")
        with (
            cursor.cursor.copy(
                f"COPY bench_floor ({columns}) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
            spool.open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor")
    spool.unlink()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", default="csv.gz", choices=["csv", "csv.gz", "parquet"])
    args = parser.parse_args()
    path = bill_file(args.rows, args.format)
    ensure_tenant()
    with schema_context(SCHEMA):
        # Each run measures a real load (a restatement of the month), not "already loaded".
        IngestJob.objects.update(fingerprint="")
        with PeakMemory() as memory:
            started = time.perf_counter()
            job = ingest_job_create(actor=None, paths=[path], enqueue=False)
            job = run_ingest(job.pk)
            total = time.perf_counter() - started
        if job.status != IngestStatus.SUCCEEDED:
            sys.exit(f"Ingest ended {job.status}: {job.message}")
        floor = floor_seconds(path, job.rows_stored)
    rate = job.rows_read / total
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.0f} MB), rows: {job.rows_read:,}")
    print(f"ingest end to end: {total:.2f} s, {rate:,.0f} rows/s (target >= 100,000)")
    print(
        f"floor (raw COPY of the normalized rows): {floor:.2f} s, "
        f"{job.rows_stored / floor:,.0f} rows/s"
    )
    print(f"ratio to floor: {total / floor:.2f}x (target <= 2x)")
    print(
        f"peak memory of the ingesting process: {memory.peak / 2**20:,.0f} MiB (target < 1,536 MiB)"
    )


if __name__ == "__main__":
    main()

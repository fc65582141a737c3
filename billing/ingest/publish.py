"""Making loaded staging tables the stored data, atomically per ingest.

In one transaction, for each billing period and payer: the period's partition is made if
new, the payer's previous partition is detached and dropped, the staging table is
attached in its place, and the daily summaries are rebuilt from it. Readers see the old
data or the new, never a mix.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.csv as pcsv
from django.db import connection, transaction
from psycopg import sql

from billing.ingest.staging import PeriodLoad
from billing.models import DailyCostSummary, IngestJob, IngestPeriodSum, LoadedPeriod

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SUMMARY_SQL = (SQL_DIR / "daily_summary.sql").read_text()
GROUP_SQL = (SQL_DIR / "group_line_items.sql").read_text()
GROUPS_TABLE = "billing_summary_groups"
GROUPS_COLUMNS = (
    "day date, sub_account_id text, service_name text, region_id text, "
    "charge_category text, tag_set_id bigint, billed_cost numeric, effective_cost numeric, "
    "list_cost numeric, contracted_cost numeric, row_count bigint"
)


def period_table_name(period: date) -> str:
    return f"billing_cost_line_item_{period:%Y_%m}"


def leaf_table_name(period: date, job_id: int, index: int) -> str:
    return f"billing_cost_line_item_{period:%Y_%m}_j{job_id}_{index}"


def _grouped(cursor: Any, load: PeriodLoad, leaf: str) -> sql.Composable:
    """The period's rows grouped for its summaries: as grouped while reading, if exact."""
    if load.summary is None:
        return sql.SQL(GROUP_SQL).format(table=sql.Identifier(leaf))
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {GROUPS_TABLE} ({GROUPS_COLUMNS}) ON COMMIT DROP"
    )
    cursor.execute(f"TRUNCATE {GROUPS_TABLE}")
    buffer = io.BytesIO()
    pcsv.write_csv(load.summary, buffer, pcsv.WriteOptions(include_header=False))
    columns = ", ".join(load.summary.column_names)
    with cursor.cursor.copy(
        f"COPY {GROUPS_TABLE} ({columns}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        copy.write(buffer.getbuffer())
    return sql.SQL("SELECT * FROM {}").format(sql.Identifier(GROUPS_TABLE))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@transaction.atomic
def publish_loads(*, job: IngestJob, loads: list[PeriodLoad], tag_keys: list[str]) -> None:
    with connection.cursor() as cursor:
        for index, load in enumerate(sorted(loads, key=lambda item: item.key)):
            _publish_one(cursor, job, load, index, tag_keys)
    IngestPeriodSum.objects.bulk_create(
        IngestPeriodSum(
            job=job,
            billing_period_start=date.fromisoformat(load.key[0]),
            billing_account_id=load.key[1],
            source_rows=load.source.rows,
            stored_rows=load.stored.rows,
            source_billed_cost=load.source.billed_cost,
            stored_billed_cost=load.stored.billed_cost,
            rejected_billed_cost=load.rejected.billed_cost,
            source_effective_cost=load.source.effective_cost,
            stored_effective_cost=load.stored.effective_cost,
            rejected_effective_cost=load.rejected.effective_cost,
        )
        for load in loads
    )


def _publish_one(
    cursor: object, job: IngestJob, load: PeriodLoad, index: int, tags: list[str]
) -> None:
    period, payer = date.fromisoformat(load.key[0]), load.key[1]
    execute = cursor.execute  # type: ignore[attr-defined]
    # Publishers of the same period and payer take turns.
    execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{period}|{payer}"])
    parent = sql.Identifier(period_table_name(period))
    execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF billing_cost_line_item "
            "FOR VALUES FROM ({}) TO ({}) PARTITION BY LIST (billing_account_id)"
        ).format(parent, sql.Literal(period), sql.Literal(_next_month(period)))
    )
    previous = (
        LoadedPeriod.objects.select_for_update()
        .filter(billing_period_start=period, billing_account_id=payer)
        .first()
    )
    if previous is not None:
        old = sql.Identifier(previous.table_name)
        execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(parent, old))
        execute(sql.SQL("DROP TABLE {}").format(old))
    DailyCostSummary.objects.filter(billing_period_start=period, billing_account_id=payer).delete()
    leaf = leaf_table_name(period, job.pk, index)
    execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(load.table), sql.Identifier(leaf)
        )
    )
    execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
            parent, sql.Identifier(leaf), sql.Literal(payer)
        )
    )
    execute(
        sql.SQL(SUMMARY_SQL).format(grouped=_grouped(cursor, load, leaf)),
        {"period": period, "payer": payer, "tag_keys": tags},
    )
    LoadedPeriod.objects.update_or_create(
        billing_period_start=period,
        billing_account_id=payer,
        defaults={
            "job": job,
            "table_name": leaf,
            "rows": load.stored.rows,
            "billed_cost": load.stored.billed_cost,
            "effective_cost": load.stored.effective_cost,
        },
    )

"""Making loaded staging tables the stored data, atomically per ingest.

In one transaction, for each billing period and payer: the period's partitions (of the
line items and of the cost rollup) are made if new, the payer's previous partitions are
detached and dropped, the staging tables are attached in their place, and the cost
explorer's summaries (`billing.models.cubes`) are rebuilt from the rollup, and the weekly
resource costs (`billing.models.resources`) from the line items. Readers see
the old data or the new, never a mix.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from psycopg import sql

from billing.ingest.rollup import rollup_table_name
from billing.ingest.staging import PeriodLoad
from billing.models import (
    CostCube,
    DailyTagCost,
    IngestJob,
    IngestPeriodSum,
    LoadedPeriod,
    ResourceWeekCost,
)
from billing.models.cubes import DAILY_GRAINS, TAG_GRAINS
from billing.payers import PayerChains, check_counted_once
from portal.core.connections import local_settings

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
CUBE_SQL = (SQL_DIR / "cost_cube.sql").read_text()
CUBE_GRAIN_SQL = (SQL_DIR / "cube_grain.sql").read_text()
TAG_COST_SQL = (SQL_DIR / "daily_tag_cost.sql").read_text()
TAG_GRAIN_SQL = (SQL_DIR / "tag_grain.sql").read_text()
TAG_PAIR_SQL = (SQL_DIR / "tag_pair.sql").read_text()
RESOURCE_SQL = (SQL_DIR / "resource_week_cost.sql").read_text()
RESOURCE_SETTINGS = {"work_mem": "256MB", "enable_sort": "off"}
FIXED_COLUMNS = ("billing_account_id", "charge_category")  # in every grain's SQL
# Partitioned tables and their partitions' names: <table>_<YYYY_MM> for a period,
# <table>_<YYYY_MM>_j<job>_<index> for a payer's month.
LINE_ITEMS = "billing_cost_line_item"
ROLLUP = "billing_cost_rollup"


def period_table_name(period: date, table: str = LINE_ITEMS) -> str:
    return f"{table}_{period:%Y_%m}"


def leaf_table_name(period: date, job_id: int, index: int) -> str:
    return f"{period_table_name(period)}_j{job_id}_{index}"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@transaction.atomic
def publish_loads(*, job: IngestJob, loads: list[PeriodLoad], tag_keys: list[str]) -> None:
    chains = PayerChains()  # the transfers, read once for every payer's month
    with connection.cursor() as cursor:
        for index, load in enumerate(sorted(loads, key=lambda item: item.key)):
            _publish_one(cursor, job, load, index, tag_keys, chains)
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
    cursor: object,
    job: IngestJob,
    load: PeriodLoad,
    index: int,
    tags: list[str],
    chains: PayerChains,
) -> None:
    period, payer = date.fromisoformat(load.key[0]), load.key[1]
    execute = cursor.execute  # type: ignore[attr-defined]
    # Publishers of the same period and payer take turns.
    execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{period}|{payer}"])
    previous = (
        LoadedPeriod.objects.select_for_update()
        .filter(billing_period_start=period, billing_account_id=payer)
        .first()
    )
    check_counted_once(period, payer, load.rollup_table, chains)
    chain = chains.chain(payer, period)
    for summary in (CostCube, DailyTagCost, ResourceWeekCost):
        summary.objects.filter(billing_period_start=period, billing_account_id=payer).delete()
    leaf = leaf_table_name(period, job.pk, index)
    old = previous.table_name if previous is not None else None
    for table, staged in ((LINE_ITEMS, load.table), (ROLLUP, load.rollup_table)):
        _swap(
            cursor,
            parent=(table, period),
            old=rollup_table_name(old) if old and table == ROLLUP else old,
            staged=staged,
            leaf=leaf if table == LINE_ITEMS else rollup_table_name(leaf),
            payer=payer,
        )
    rebuild_summaries(cursor, period=period, payer=payer, leaf=leaf, tag_keys=tags)
    rebuild_resource_costs(cursor, period=period, payer=payer, leaf=leaf)
    LoadedPeriod.objects.update_or_create(
        billing_period_start=period,
        billing_account_id=payer,
        defaults={
            "job": job,
            "table_name": leaf,
            "rows": load.stored.rows,
            "billed_cost": load.stored.billed_cost,
            "effective_cost": load.stored.effective_cost,
            "currencies": sorted(load.currencies),
            "tag_keys": sorted(tags),
            "payer_of_record": chain[-1],
            "payer_chain": chain,
        },
    )


def analyze_summaries(cursor: Any) -> None:
    """Fresh statistics after many rows of a new grain (a data migration); a new month's
    rows need none: the planner reads the day index's bounds."""
    for model in (CostCube, DailyTagCost):
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(model._meta.db_table)))


def rebuild_summaries(
    cursor: Any, *, period: date, payer: str, leaf: str, tag_keys: list[str], pairs: bool = True
) -> None:
    """Fill the explorer's summaries of a payer's month from its attached rollup `leaf`:
    the largest grains from the rollup, the smaller ones from those."""
    rollup = sql.Identifier(rollup_table_name(leaf))
    params = {"period": period, "payer": payer, "tag_keys": tag_keys}
    cursor.execute(sql.SQL(CUBE_SQL).format(rollup=rollup), params)
    for grain, kept in DAILY_GRAINS.items():
        if grain != "day":
            _fill_grain(cursor, CUBE_GRAIN_SQL, "c", kept, {**params, "grain": grain})
    if tag_keys:
        cursor.execute(sql.SQL(TAG_COST_SQL).format(rollup=rollup), params)
        for grain, kept in TAG_GRAINS.items():
            if grain != "tag_account":
                _fill_grain(cursor, TAG_GRAIN_SQL, "t", kept, {**params, "grain": grain})
        if pairs:  # (False only for a migration from before the grain existed)
            cursor.execute(sql.SQL(TAG_PAIR_SQL).format(rollup=rollup), params)


def rebuild_resource_costs(cursor: Any, *, period: date, payer: str, leaf: str) -> None:
    """Fill the weekly resource costs of a payer's month from its attached line items."""
    # The new partition has no statistics: without them the planner sorts the rows by
    # their text keys, three times slower than hashing them.
    with local_settings(cursor, RESOURCE_SETTINGS):
        cursor.execute(
            sql.SQL(RESOURCE_SQL).format(line_items=sql.Identifier(leaf)),
            {"period": period, "payer": payer},
        )


def _fill_grain(
    cursor: Any, template: str, alias: str, kept: tuple[str, ...], params: dict[str, Any]
) -> None:
    columns = [column for column in kept if column not in FIXED_COLUMNS]
    cursor.execute(
        sql.SQL(template).format(
            names=sql.SQL("").join(sql.SQL("{}, ").format(sql.Identifier(c)) for c in columns),
            columns=sql.SQL("").join(
                sql.SQL("{}, ").format(sql.Identifier(alias, c)) for c in columns
            ),
        ),
        params,
    )


def _swap(
    cursor: Any, *, parent: tuple[str, date], old: str | None, staged: str, leaf: str, payer: str
) -> None:
    """Make `staged` the partition of `payer` in the period's partition of `parent`.

    The period's partition is made if new; the payer's `old` partition, if there is
    one, is detached and dropped.
    """
    table, period = parent
    period_table = sql.Identifier(period_table_name(period, table))
    cursor.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} "
            "FOR VALUES FROM ({}) TO ({}) PARTITION BY LIST (billing_account_id)"
        ).format(
            period_table,
            sql.Identifier(table),
            sql.Literal(period),
            sql.Literal(_next_month(period)),
        )
    )
    if old is not None:
        old_table = sql.Identifier(old)
        cursor.execute(
            sql.SQL("ALTER TABLE {} DETACH PARTITION {}").format(period_table, old_table)
        )
        cursor.execute(sql.SQL("DROP TABLE {}").format(old_table))
    cursor.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(staged), sql.Identifier(leaf))
    )
    cursor.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
            period_table, sql.Identifier(leaf), sql.Literal(payer)
        )
    )

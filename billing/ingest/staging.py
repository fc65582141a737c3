"""Loading normalized batches into staging tables with COPY, one per period and payer.

All staging tables of an ingest (line items, and their cost rollup once all are read) are
created and filled in one transaction, which lets PostgreSQL skip the write-ahead log for
them where wal_level is minimal. Nothing is visible to readers until
`billing.ingest.publish` attaches them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from psycopg import sql

from billing.ingest.contract import NormalizedBatch, PeriodKey, Sums
from billing.ingest.rollup import stage_rollup
from billing.ingest.summaries import MAGNITUDE_LIMIT, BatchGroups, RollupGrouper, compact
from billing.ingest.tagsets import TagSetResolver

STAGE_PREFIX = "billing_cost_stage_"
# Columns of billing_cost_line_item in COPY order (tags become tag_set_id).
TABLE_COLUMNS = (
    "id",
    "billing_period_start",
    "billing_period_end",
    "billing_account_id",
    "sub_account_id",
    "sub_account_name",
    "charge_period_start",
    "charge_period_end",
    "provider_name",
    "service_name",
    "service_category",
    "region_id",
    "availability_zone",
    "resource_id",
    "sku_id",
    "charge_category",
    "charge_class",
    "charge_frequency",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "contracted_cost",
    "billing_currency",
    "consumed_quantity",
    "consumed_unit",
    "pricing_quantity",
    "pricing_unit",
    "commitment_discount_id",
    "commitment_discount_type",
    "tag_set_id",
    "x_line_item_type",
    "x_usage_type",
    "x_operation",
    "x_instance_type",
    "x_purchase_option",
)
_CSV_OPTIONS = pcsv.WriteOptions(include_header=False)
# The same in every row of a staging table: filled by column defaults, not copied.
CONSTANT_COLUMNS = ("billing_period_start", "billing_account_id")
COPIED_COLUMNS = tuple(name for name in TABLE_COLUMNS if name not in CONSTANT_COLUMNS)


def stage_table_name(job_id: int, index: int) -> str:
    return f"{STAGE_PREFIX}{job_id}_{index}"


@dataclass
class PeriodLoad:
    """What one ingest loads for one billing period and payer."""

    key: PeriodKey
    table: str
    rows: int = 0
    source: Sums = field(default_factory=Sums)
    rejected: Sums = field(default_factory=Sums)
    stored: Sums = field(default_factory=Sums)
    payer_names: set[str] = field(default_factory=set)
    # Cost rollup groups (see billing.ingest.summaries); None once a batch could not be
    # grouped exactly, so the rollup is grouped from the staged rows in SQL instead.
    groups: list[pa.Table] | None = field(default_factory=list)
    magnitude: Decimal = Decimal(0)  # bounds the groups' sums
    # The staged rollup table (see billing.ingest.rollup), once all rows are read.
    rollup_table: str = ""
    # (provider, sub account id) -> name seen (or "")
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    currencies: set[str] = field(default_factory=set)


class StagingLoader:
    """Copies batches into per-(period, payer) staging tables on one cursor.

    The cursor must be inside a transaction that the caller commits after `finish()`.
    """

    def __init__(self, cursor: Any, *, job_id: int, tag_sets: TagSetResolver) -> None:
        self.cursor = cursor
        self.job_id = job_id
        self.tag_sets = tag_sets
        self.loads: dict[PeriodKey, PeriodLoad] = {}
        self.next_id = job_id << 32
        self.rollup = RollupGrouper()

    def write(
        self, batch: NormalizedBatch, groups: dict[PeriodKey, BatchGroups] | None = None
    ) -> None:
        """Copy the batch's rows; `groups` is the batch grouped for the cost rollup by
        `self.rollup` (None: it could not be grouped exactly)."""
        self._keep_groups(batch, groups)
        for key, sums in batch.source_sums.items():
            self._load(key).source.add(sums)
        for key, sums in batch.rejected_sums.items():
            self._load(key).rejected.add(sums)
        table = batch.table
        if table.num_rows == 0:
            return
        table = self._with_ids_and_tag_sets(table)
        periods = table.column("billing_period_start")
        payers = table.column("billing_account_id")
        keys = pc.binary_join_element_wise(periods, payers, "|")
        distinct = pc.unique(keys).to_pylist()
        for joined in distinct:
            period, payer = joined.split("|", 1)
            part = table if len(distinct) == 1 else table.filter(pc.equal(keys, joined))
            self._copy(self._load((period, payer)), part)

    def finish(self) -> dict[PeriodKey, PeriodLoad]:
        """Read back what each staging table holds (the sums the check compares), and
        stage each one's cost rollup."""
        for load in self.loads.values():
            if load.rows == 0:
                continue
            self.cursor.execute(
                sql.SQL(
                    "SELECT count(*), coalesce(sum(billed_cost), 0), "
                    "coalesce(sum(effective_cost), 0) FROM {}"
                ).format(sql.Identifier(load.table))
            )
            rows, billed, effective = self.cursor.fetchone()
            load.stored = Sums(rows=rows, billed_cost=billed, effective_cost=effective)
            grouped = self.rollup.merge(load.groups, self.tag_sets.ids) if load.groups else None
            load.groups = None
            period, payer = load.key
            load.rollup_table = stage_rollup(
                self.cursor, period=period, payer=payer, line_items=load.table, rows=grouped
            )
        return self.loads

    def _keep_groups(
        self, batch: NormalizedBatch, groups: dict[PeriodKey, BatchGroups] | None
    ) -> None:
        for key in {*batch.source_sums, *batch.rejected_sums}:
            load = self._load(key)
            if groups is None or load.groups is None:
                load.groups = None
                continue
            part = groups.get(key)
            if part is None:
                continue
            load.magnitude += part.magnitude
            if load.magnitude >= MAGNITUDE_LIMIT:
                load.groups = None
                continue
            load.groups.append(part.table)
            load.groups = compact(load.groups)

    def _load(self, key: PeriodKey) -> PeriodLoad:
        load = self.loads.get(key)
        if load is None:
            load = PeriodLoad(key=key, table=stage_table_name(self.job_id, len(self.loads)))
            self._create(load)
            self.loads[key] = load
        return load

    def _create(self, load: PeriodLoad) -> None:
        period, payer = load.key
        # The CHECK lets ATTACH PARTITION skip scanning the table later.
        self.cursor.execute(
            sql.SQL(
                "CREATE TABLE {table} (LIKE billing_cost_line_item, "
                "CHECK (billing_period_start = {period} AND billing_account_id = {payer})); "
                "ALTER TABLE {table} ALTER billing_period_start SET DEFAULT {period}, "
                "ALTER billing_account_id SET DEFAULT {payer}"
            ).format(
                table=sql.Identifier(load.table),
                period=sql.Literal(period),
                payer=sql.Literal(payer),
            )
        )

    def _with_ids_and_tag_sets(self, table: pa.Table) -> pa.Table:
        ids = pa.array(range(self.next_id, self.next_id + table.num_rows), pa.int64())
        self.next_id += table.num_rows
        tag_set_ids = self.tag_sets.ids_for(table.column("tags"))
        table = table.append_column("id", pc.cast(ids, pa.string()))
        return table.append_column("tag_set_id", tag_set_ids)

    def _copy(self, load: PeriodLoad, part: pa.Table) -> None:
        self._remember_names(load, part)
        buffer = io.BytesIO()
        pcsv.write_csv(part.select(list(COPIED_COLUMNS)), buffer, _CSV_OPTIONS)
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, COPIED_COLUMNS))
        )
        with self.cursor.copy(statement) as copy:
            copy.write(buffer.getbuffer())
        load.rows += part.num_rows

    @staticmethod
    def _remember_names(load: PeriodLoad, part: pa.Table) -> None:
        names = part.select(["billing_account_name"]).group_by("billing_account_name")
        load.payer_names.update(n for n in names.aggregate([]).column(0).to_pylist() if n)
        load.currencies.update(
            c for c in pc.unique(part.column("billing_currency")).to_pylist() if c
        )
        accounts = part.group_by(["provider_name", "sub_account_id", "sub_account_name"])
        for provider, account, name in _rows(accounts.aggregate([])):
            if account:
                key = (provider or "", account)
                load.accounts[key] = load.accounts.get(key) or name or ""


def _rows(table: pa.Table) -> Iterable[tuple[Any, ...]]:
    return zip(*(table.column(i).to_pylist() for i in range(table.num_columns)), strict=True)

"""Daily summaries grouped while the rows are read, so publishing need not scan them.

The reader thread groups each batch by period, payer, day and the summary dimensions with
exact decimal sums; the groups of a period and payer are merged when the load ends (a few
thousand rows). A value with more digits than decimal128(38, 18) holds makes that load
fall back to grouping its stored rows in SQL.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import MONEY_COLUMNS

DIMENSIONS = ("sub_account_id", "service_name", "region_id", "charge_category")
BATCH_KEYS = ("billing_period_start", "billing_account_id", "day", *DIMENSIONS, "tags")
SUMMED = (*MONEY_COLUMNS, "row_count")
EXACT = pa.decimal128(38, 18)
# Partial groups kept before they are merged (a month has far fewer distinct groups).
COMPACT_AT_ROWS = 200_000


def group_batch(table: pa.Table) -> pa.Table | None:
    """`table` grouped by BATCH_KEYS with exact sums, or None if a value does not fit."""
    columns = {"day": pc.utf8_slice_codeunits(table.column("charge_period_start"), 0, 10)}
    for key in BATCH_KEYS:
        if key != "day":
            columns[key] = table.column(key)
    try:
        for money in MONEY_COLUMNS:
            columns[money] = pc.cast(table.column(money), EXACT)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    columns["row_count"] = pa.repeat(pa.scalar(1, pa.int64()), table.num_rows)
    return _regroup(pa.table(columns), BATCH_KEYS)


def compact(groups: list[pa.Table]) -> list[pa.Table]:
    """The same groups in one table once they hold many rows, so memory stays bounded."""
    if sum(table.num_rows for table in groups) < COMPACT_AT_ROWS:
        return groups
    return [_regroup(pa.concat_tables(groups), BATCH_KEYS)]


def merge_groups(groups: list[pa.Table], tag_set_ids: dict[str, int]) -> pa.Table:
    """One period and payer's groups as one table of text columns, tags as tag set ids."""
    merged = _regroup(pa.concat_tables(groups), ("day", *DIMENSIONS, "tags"))
    tags = merged.column("tags").to_pylist()
    ids = pa.array([None if t is None else str(tag_set_ids[t]) for t in tags], pa.string())
    columns = {name: pc.cast(merged.column(name), pa.string()) for name in ("day", *DIMENSIONS)}
    columns["tag_set_id"] = ids
    for name in SUMMED:
        columns[name] = pc.cast(merged.column(name), pa.string())
    return pa.table(columns)


def _regroup(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    grouped = table.group_by(list(keys)).aggregate([(name, "sum") for name in SUMMED])
    return grouped.rename_columns([name.removesuffix("_sum") for name in grouped.column_names])

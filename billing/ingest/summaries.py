"""The cost rollup grouped while the rows are read, so publishing need not scan them.

The reader thread groups each batch by period, payer and the rollup's keys (day and the
columns allocation rules read, see `billing.models.CostRollup`) with exact decimal sums;
the groups of a period and payer are merged as they grow and once more when the load ends
(about a hundred thousand rows for a million line items). The keys are grouped as small
integer codes, stable over the ingest (`KeyCodes`), not as text: hashing a dozen text
columns per row would cost more than reading them.

Sums are decimal128(38, 18). A value with more digits than that holds, or amounts so
large that a sum could overflow it, make that load fall back to grouping its stored rows
in SQL (billing/sql/group_line_items.sql).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from billing.ingest.contract import MONEY_COLUMNS, PeriodKey

# The rollup's keys besides period and payer, in its column order (tags become tag sets).
ROLLUP_KEYS = (
    "day",
    "sub_account_id",
    "sub_account_name",
    "service_name",
    "region_id",
    "charge_category",
    "x_usage_type",
    "pricing_unit",
    "x_operation",
    "commitment_discount_type",
)
CODED_KEYS = (*ROLLUP_KEYS, "tags")
EXACT_SUMMED = (*MONEY_COLUMNS, "pricing_quantity")
SUMMED = (*EXACT_SUMMED, "row_count")
# The COPY columns of a rollup table, in the order `RollupGrouper.merge` gives them.
ROLLUP_COLUMNS = (*ROLLUP_KEYS, "tag_set_id", *SUMMED)
EXACT = pa.decimal128(38, 18)
# Sums stay exact while the magnitudes summed add up to less than this (decimal128(38, 18)
# holds up to about 1.7e20).
MAGNITUDE_LIMIT = Decimal("1e20")
# Partial groups kept before they are merged: about 120 bytes a row.
COMPACT_AT_ROWS = 500_000
# Decimal text as Arrow writes it (scale 18, "1.50000000000E-7" below 1e-6) to text
# without trailing zeros, as `trim_scale` leaves a numeric: (pattern, replacement) in turn.
TRIM_SCALE = (
    (r"(\.\d*?)0+(E[-+]?\d+)?$", r"\1\2"),  # 1.500E-7 -> 1.5E-7, 2.000 -> 2.
    (r"\.(E|$)", r"\1"),  # 2. -> 2, 1.E-7 -> 1E-7
    (r"^0E[-+]?\d+$", "0"),  # 0E-18 -> 0
)


@dataclass
class BatchGroups:
    """One period and payer's rows of a batch, grouped; `magnitude` bounds its sums."""

    table: pa.Table
    magnitude: Decimal


class KeyCodes:
    """Stable codes for the text values of one column over an ingest's batches."""

    def __init__(self) -> None:
        self.values = pa.array([], pa.string())

    def encode(self, column: pa.Array | pa.ChunkedArray) -> pa.Array:
        """One int32 code per row (the position of its value in `values`); null stays null."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        encoded = pc.dictionary_encode(column)
        positions = pc.index_in(encoded.dictionary, value_set=self.values)
        if positions.null_count:
            new = encoded.dictionary.filter(pc.is_null(positions))
            self.values = pa.concat_arrays([self.values, new])
            positions = pc.index_in(encoded.dictionary, value_set=self.values)
        return pc.take(positions, encoded.indices)

    def decode(self, codes: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
        return pc.take(self.values, codes)


class RollupGrouper:
    """Groups an ingest's batches for the rollup (in the reader thread) and merges each
    period and payer's groups into rollup rows (once the reading is done)."""

    def __init__(self) -> None:
        self.codes = {key: KeyCodes() for key in CODED_KEYS}

    def group(self, table: pa.Table) -> dict[PeriodKey, BatchGroups] | None:
        """`table`'s rows grouped per period and payer, or None if a value does not fit."""
        columns = {"day": pc.utf8_slice_codeunits(table.column("charge_period_start"), 0, 10)}
        for key in CODED_KEYS[1:]:
            columns[key] = table.column(key)
        try:
            for name in EXACT_SUMMED:
                columns[name] = pc.cast(table.column(name), EXACT)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        for key in CODED_KEYS:
            columns[key] = self.codes[key].encode(columns[key])
        columns["row_count"] = pa.repeat(pa.scalar(1, pa.int64()), table.num_rows)
        coded = pa.table(columns)
        return {
            key: BatchGroups(_regroup(part, CODED_KEYS), _magnitude(part))
            for key, part in _parts(table, coded)
        }

    def merge(self, groups: list[pa.Table], tag_set_ids: dict[str, int]) -> pa.Table:
        """One period and payer's groups as its rollup rows: ROLLUP_COLUMNS, as text.

        Tags become tag set ids first, so two spellings of one tag set are one row. Sums
        lose their trailing zeros, as `trim_scale` does to the SQL fallback's.
        """
        texts = self.codes["tags"].values.to_pylist()
        ids = pa.array([tag_set_ids[text] for text in texts], pa.int64())
        table = pa.concat_tables(groups)
        tag_set_id = pc.take(ids, table.column("tags"))
        table = table.drop_columns(["tags"]).append_column("tag_set_id", tag_set_id)
        merged = _regroup(table, (*ROLLUP_KEYS, "tag_set_id"))
        columns = {key: self.codes[key].decode(merged.column(key)) for key in ROLLUP_KEYS}
        columns["tag_set_id"] = pc.cast(merged.column("tag_set_id"), pa.string())
        for name in SUMMED:
            text = pc.cast(merged.column(name), pa.string())
            columns[name] = trim_scale(text) if name in EXACT_SUMMED else text
        return pa.table({name: columns[name] for name in ROLLUP_COLUMNS})


def trim_scale(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Decimal128 values as text without trailing zeros (PostgreSQL reads every form)."""
    for pattern, replacement in TRIM_SCALE:
        texts = pc.replace_substring_regex(texts, pattern, replacement)
    return texts


def compact(groups: list[pa.Table]) -> list[pa.Table]:
    """The same groups in one table once they hold many rows, so memory stays bounded."""
    if sum(table.num_rows for table in groups) < COMPACT_AT_ROWS:
        return groups
    return [_regroup(pa.concat_tables(groups), CODED_KEYS)]


def _parts(table: pa.Table, coded: pa.Table) -> list[tuple[PeriodKey, pa.Table]]:
    """`coded` split by the period and payer of `table`'s rows (usually one of each)."""
    periods = pc.unique(table.column("billing_period_start")).to_pylist()
    payers = pc.unique(table.column("billing_account_id")).to_pylist()
    if len(periods) == 1 and len(payers) == 1:
        return [((periods[0], payers[0]), coded)] if table.num_rows else []
    keys = pc.binary_join_element_wise(
        table.column("billing_period_start"), table.column("billing_account_id"), "|"
    )
    parts = []
    for joined in pc.unique(keys).to_pylist():
        period, payer = joined.split("|", 1)
        parts.append(((period, payer), coded.filter(pc.equal(keys, joined))))
    return parts


def _magnitude(table: pa.Table) -> Decimal:
    """At least the largest sum of absolute amounts of a column of `table`."""
    largest = Decimal(0)
    for name in EXACT_SUMMED:
        extremes = pc.min_max(table.column(name)).as_py()
        for value in (extremes["min"], extremes["max"]):
            if value is not None:
                largest = max(largest, abs(value))
    return largest * table.num_rows


def _regroup(table: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    grouped = table.group_by(list(keys)).aggregate([(name, "sum") for name in SUMMED])
    return grouped.rename_columns([name.removesuffix("_sum") for name in grouped.column_names])

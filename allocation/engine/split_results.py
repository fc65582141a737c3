"""Split rules applied to a run's result rows, in version order.

Each row of a split's source value is replaced by one row per target holding its part,
with the split rule and the source value kept as lineage. Parts are computed for each
cost column separately and always sum exactly to the source row's amount.

The rows are read and written as plain tuples (a month holds thousands of them): the
source values' rows are deleted with one statement and their parts copied in with COPY.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from allocation.engine.splits import even_weights, share
from allocation.models import AllocationResult, AllocationRun, SplitMethod, SplitRule

COST_COLUMNS = ("billed_cost", "effective_cost", "list_cost")
TABLE = AllocationResult._meta.db_table
INSERTED = (
    "run_id",
    "value",
    "day",
    "sub_account_id",
    "service_name",
    "rule_id",
    "split_rule_id",
    "split_from",
    "row_count",
    *COST_COLUMNS,
)


class Row(NamedTuple):
    value: str
    day: date
    sub_account_id: str
    service_name: str
    rule_id: int | None
    row_count: int
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal


def _rows(run: AllocationRun) -> list[Row]:
    """The run's rows, in the model's order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(Row._fields)} FROM {TABLE} WHERE run_id = %s ORDER BY value, day",
            [run.pk],
        )
        return [Row(*values) for values in cursor.fetchall()]


def _totals(rows: list[Row]) -> dict[str, dict[str, Decimal]]:
    """Per value, its total of each cost column (over the period, before any split)."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(COST_COLUMNS, Decimal(0))
    )
    for row in rows:
        sums = totals[row.value]
        sums["billed_cost"] += row.billed_cost
        sums["effective_cost"] += row.effective_cost
        sums["list_cost"] += row.list_cost
    return totals


def _weights(
    split: SplitRule, column: str, totals: dict[str, dict[str, Decimal]], notes: list[str]
) -> list[Decimal]:
    targets = split.targets
    if split.method == SplitMethod.FIXED:
        return [Decimal(target["percent"]) for target in targets]
    if split.method == SplitMethod.PROPORTIONAL:
        weights = [totals[target["value"]][column] for target in targets]
        if sum(weights, Decimal(0)) != 0:
            return weights
        notes.append(
            f'Split {split.position} ("{split.source}"): the targets have no {column} of '
            "their own, so it was split evenly."
        )
    return even_weights(len(targets))


def apply_splits(run: AllocationRun, splits: list[SplitRule]) -> list[str]:
    """Move the source values' rows to their targets; the notes say what fell back."""
    if not splits:
        return []
    rows = _rows(run)
    totals = _totals(rows)
    by_value: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_value[row.value].append(row)
    notes: list[str] = []
    moved: list[tuple[object, ...]] = []
    removed: list[str] = []
    for split in sorted(splits, key=lambda s: s.position):
        sources = by_value.pop(split.source, [])
        if not sources:
            continue
        weights = {column: _weights(split, column, totals, notes) for column in COST_COLUMNS}
        values = [target["value"] for target in split.targets]
        for row in sources:
            billed = share(row.billed_cost, weights["billed_cost"])
            effective = share(row.effective_cost, weights["effective_cost"])
            listed = share(row.list_cost, weights["list_cost"])
            lineage = (row.day, row.sub_account_id, row.service_name, row.rule_id, split.pk)
            moved.extend(
                (run.pk, value, *lineage, split.source, row.row_count, *costs)
                for value, *costs in zip(values, billed, effective, listed, strict=True)
            )
        removed.append(split.source)
    if removed:
        _replace(run, removed, moved)
    return notes


def _replace(run: AllocationRun, values: list[str], rows: list[tuple[object, ...]]) -> None:
    """Delete the run's rows of `values` and add `rows` (in INSERTED column order)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE run_id = %s AND value = ANY(%s)", [run.pk, values]
        )
        with cursor.cursor.copy(f"COPY {TABLE} ({', '.join(INSERTED)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

"""Split rules applied to a run's rows as they are written into its results.

Each row of a split's source value is replaced by one row per target holding its part,
with the split rule and the source value kept as lineage. Parts are computed for each
cost column separately: floored to the cent, the leftover cents going one each to the
parts with the largest remainders (of equal ones, the earlier target), and what is left
below a cent (amounts can have more than two decimals) to the part with the largest
remainder, so the parts always sum exactly to the row's amount. A part keeps its row's
day, account, service, usage type and pricing unit, but no pricing quantity: a split
moves cost, not usage.

allocation/sql/split.sql does this for every row in one statement, exactly, in numeric (a
month has tens of thousands of rows to split). Here, only the weights: per split and cost
column, the targets' percentages (fixed), their own totals before any split
(proportional), or equal weights (even, and proportional when the targets have none of
that cost).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

from django.db import connection

from allocation.models import AllocationRun, SplitMethod, SplitRule

COST_COLUMNS = ("billed_cost", "effective_cost", "list_cost")
SQL = (Path(__file__).resolve().parent.parent / "sql" / "split.sql").read_text()
ROWS = "allocation_rows"  # the run's rows before splits, made by allocate.sql
# The target arrays split.sql takes, one element per split rule and target.
TARGET_PARAMS = (
    "split_rules",
    "sources",
    "positions",
    "values",
    "billed_weights",
    "effective_weights",
    "list_weights",
)
# Enough digits that adding up weights (sums of bill amounts) is exact.
EXACT_DIGITS = 200

Totals = dict[str, dict[str, Decimal]]


def _totals(cursor: Any) -> Totals:
    """Per value, its total of each cost column (over the period, before any split)."""
    sums = ", ".join(f"sum({column})" for column in COST_COLUMNS)
    cursor.execute(f"SELECT value, {sums} FROM {ROWS} GROUP BY value")
    totals: Totals = defaultdict(lambda: dict.fromkeys(COST_COLUMNS, Decimal(0)))
    for value, *amounts in cursor.fetchall():
        totals[value] = dict(zip(COST_COLUMNS, amounts, strict=True))
    return totals


def _weights(split: SplitRule, column: str, totals: Totals, notes: list[str]) -> list[Decimal]:
    targets = split.targets
    if split.method == SplitMethod.FIXED:
        return [Decimal(target["percent"]) for target in targets]
    if split.method == SplitMethod.PROPORTIONAL:
        weights = [totals[target["value"]][column] for target in targets]
        with localcontext(prec=EXACT_DIGITS):
            if sum(weights, Decimal(0)) != 0:
                return weights
        notes.append(
            f'Split {split.position} ("{split.source}"): the targets have no {column} of '
            "their own, so it was split evenly."
        )
    return [Decimal(1)] * len(targets)


def _targets(splits: list[SplitRule], totals: Totals, notes: list[str]) -> list[tuple[Any, ...]]:
    """One row per split rule (of a value that has costs) and target, in TARGET_PARAMS."""
    rows = []
    for split in sorted(splits, key=lambda s: s.position):
        if split.source not in totals:
            notes.append(
                f'Split {split.position} ("{split.source}"): no cost went to '
                f'"{split.source}", so it shared nothing.'
            )
            continue
        weights = [_weights(split, column, totals, notes) for column in COST_COLUMNS]
        for index, target in enumerate(split.targets):
            shares = [column[index] for column in weights]
            rows.append((split.pk, split.source, index + 1, target["value"], *shares))
    return rows


def write_results(run: AllocationRun, splits: list[SplitRule]) -> list[str]:
    """Write the run's rows into its results, split; the notes say what fell back."""
    notes: list[str] = []
    with connection.cursor() as cursor:
        targets = _targets(splits, _totals(cursor), notes)
        columns = list(zip(*targets, strict=True)) or [()] * len(TARGET_PARAMS)
        params = dict(zip(TARGET_PARAMS, map(list, columns), strict=True))
        cursor.execute(SQL, {"run": run.pk, **params})
        cursor.execute(f"DROP TABLE {ROWS}")
    return notes

"""Split rules applied to a run's result rows, in version order.

Each row of a split's source value is replaced by one row per target holding its part,
with the split rule and the source value kept as lineage. Parts are computed for each
cost column separately and always sum exactly to the source row's amount.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from allocation.engine.splits import even_weights, share
from allocation.models import AllocationResult, AllocationRun, SplitMethod, SplitRule

COST_COLUMNS = ("billed_cost", "effective_cost", "list_cost")


def _totals(rows: list[AllocationResult]) -> dict[str, dict[str, Decimal]]:
    """Per value, its total of each cost column (over the period, before any split)."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(COST_COLUMNS, Decimal(0))
    )
    for row in rows:
        for column in COST_COLUMNS:
            totals[row.value][column] += getattr(row, column)
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
    rows = list(AllocationResult.objects.filter(run=run))
    totals = _totals(rows)
    by_value: dict[str, list[AllocationResult]] = defaultdict(list)
    for row in rows:
        by_value[row.value].append(row)
    notes: list[str] = []
    moved: list[AllocationResult] = []
    removed: list[int] = []
    for split in sorted(splits, key=lambda s: s.position):
        sources = by_value.pop(split.source, [])
        if not sources:
            continue
        weights = {column: _weights(split, column, totals, notes) for column in COST_COLUMNS}
        for row in sources:
            parts = {
                column: share(getattr(row, column), weights[column]) for column in COST_COLUMNS
            }
            for index, target in enumerate(split.targets):
                moved.append(
                    AllocationResult(
                        run=run,
                        value=target["value"],
                        day=row.day,
                        sub_account_id=row.sub_account_id,
                        service_name=row.service_name,
                        rule_id=row.rule_id,
                        split_rule=split,
                        split_from=split.source,
                        row_count=row.row_count,
                        **{column: parts[column][index] for column in COST_COLUMNS},
                    )
                )
            removed.append(row.pk)
    AllocationResult.objects.filter(pk__in=removed).delete()
    AllocationResult.objects.bulk_create(moved, batch_size=1000)
    return notes

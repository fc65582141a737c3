"""What a proposed version of a category's rules would change, without keeping anything.

The proposal goes through the same service and engine as a real version and run, inside
a transaction that is then rolled back: the same checks refuse the same bad rules, the
totals are the ones a real run would give, and no version, run or audit entry stays.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from allocation.engine.run import allocation_run_now
from allocation.engine.split_results import COST_COLUMNS
from allocation.explain import run_totals, zero
from allocation.models import AllocationRun, CostCategory, RunStatus
from allocation.services import ruleset_create

Amounts = dict[str, Decimal]


def _by_value(run: AllocationRun | None) -> dict[str, Amounts]:
    if run is None:
        return {}
    return {row["value"]: {c: row[c] for c in COST_COLUMNS} for row in run_totals(run)}


def latest_run(category: CostCategory, period: date) -> AllocationRun | None:
    """The category's succeeded run of the month of `period`, if it was allocated."""
    return (
        AllocationRun.objects.filter(
            category=category, period=period.replace(day=1), status=RunStatus.SUCCEEDED
        )
        .order_by("-requested_at")
        .first()
    )


def allocation_preview(
    *,
    actor: Any,
    category: CostCategory,
    period: date,
    rules: list[dict[str, Any]],
    splits: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Each value's totals under the proposed rules against the period's current run.

    Rows: {"value", "current": {cost: amount}, "proposed": {...}, "change": {...}}, by
    value name; a value missing on one side counts zero there. Notes: what the proposed
    run noted (rules that match nothing, splits that share nothing). The proposal is checked
    by `ruleset_create`, so a bad rule raises its ApplicationError.
    """
    month = period.replace(day=1)
    current_run = latest_run(category, month)
    current = _by_value(current_run)
    with transaction.atomic():
        ruleset_create(
            actor=actor, category=category, effective_month=month, rules=rules, splits=splits
        )
        proposed_run = allocation_run_now(actor=actor, category=category, period=month)
        proposed, notes = _by_value(proposed_run), list(proposed_run.notes)
        transaction.set_rollback(True)
    rows = []
    for value in sorted(set(current) | set(proposed)):
        before, after = current.get(value, zero()), proposed.get(value, zero())
        rows.append(
            {
                "value": value,
                "current": before,
                "proposed": after,
                "change": {c: after[c] - before[c] for c in COST_COLUMNS},
            }
        )
    return {
        "category": category.pk,
        "period": month,
        "current_run": current_run.pk if current_run else None,
        "values": rows,
        "notes": notes,
    }

"""What each billing unit was allocated in a period: the input of its invoice lines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus

# Rows of one run: allocation_allocationresult's index (run_id, value) serves the filter.
GROUPED_SQL = f"""
    SELECT value, service_name, usage_type, pricing_unit, split_from,
           sum(pricing_quantity), sum(billed_cost), sum(effective_cost), sum(list_cost)
    FROM {AllocationResult._meta.db_table}
    WHERE run_id = %s AND value = ANY(%s)
    GROUP BY value, service_name, usage_type, pricing_unit, split_from
    ORDER BY value, service_name, split_from, usage_type, pricing_unit
"""


# What each payer's bill gave each value: the payers of record an invoice's cost has.
PAYERS_SQL = f"""
    SELECT value, payer, sum(billed_cost), sum(effective_cost), sum(list_cost)
    FROM {AllocationResult._meta.db_table}
    WHERE run_id = %s AND value = ANY(%s)
    GROUP BY value, payer
    ORDER BY value, payer
"""
COST_COLUMNS = ("billed_cost", "effective_cost", "list_cost")


@dataclass(frozen=True)
class AllocatedCost:
    """One value's cost of a service and usage type (or shared from `split_from`)."""

    service_name: str
    usage_type: str
    pricing_unit: str
    split_from: str
    quantity: Decimal | None
    billed_cost: Decimal
    effective_cost: Decimal
    list_cost: Decimal

    def cost(self, basis: str) -> Decimal:
        amount: Decimal = getattr(self, basis)
        return amount

    @property
    def is_zero(self) -> bool:
        return not (self.billed_cost or self.effective_cost or self.list_cost or self.quantity)


def latest_run(category: CostCategory, period: date) -> AllocationRun | None:
    """The category's allocation of the period that results are read from."""
    return (
        AllocationRun.objects.filter(category=category, period=period, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def allocated_costs(run: AllocationRun, values: list[str]) -> dict[str, list[AllocatedCost]]:
    """The run's costs of `values`, per value, by service, then usage type."""
    costs: dict[str, list[AllocatedCost]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(GROUPED_SQL, [run.pk, values])
        for value, *fields in cursor.fetchall():
            costs[value].append(AllocatedCost(*fields))
    return costs


def allocated_by_payer(
    run: AllocationRun, values: list[str]
) -> dict[str, dict[str, dict[str, Decimal]]]:
    """The run's costs of `values` per payer whose bill they came from: value -> payer ->
    cost column -> sum."""
    found: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(PAYERS_SQL, [run.pk, values])
        for value, payer, *sums in cursor.fetchall():
            found[value][payer] = dict(zip(COST_COLUMNS, sums, strict=True))
    return found

"""Reconciliation: does every cent of a period's bill end up on an invoice, or say why not?

For each cost category that has billing units, and each cost column (billed, effective,
list), the period's ingested total is set against where its cost went in the
category's latest allocation:

- invoiced: the wholesale of the period's invoices (not voided) of the category's
  units, from their lines; issued (and paid) apart from drafts;
- unallocated: the category's fallback value ("Unallocated"), when no unit bills it;
- unbilled: values with no billing unit, and units with no invoice for the period;

and `difference = ingested - (invoiced + unallocated + unbilled)`, which must be zero.
Every figure is an exact sum of `numeric` columns; nothing is rounded. Credit notes are
listed apart: they change what the customer pays, not the wholesale cost.

Invoices keep the cost of the allocation run they were drafted from; when the category
was allocated again since, the invoices and the latest run may disagree, and the
difference shows by how much (each such invoice is named).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from allocation.models import AllocationResult, AllocationRun, CostCategory
from billing.models import CostLineItem, LoadedPeriod
from invoices.allocated import latest_run
from invoices.models import (
    BillingUnit,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    InvoiceRunStatus,
    InvoiceStatus,
)

COLUMNS = ("billed_cost", "effective_cost", "list_cost")
COLUMN_LABELS = {
    "billed_cost": "BilledCost",
    "effective_cost": "EffectiveCost",
    "list_cost": "ListCost",
}
ZERO = Decimal(0)


@dataclass(frozen=True)
class Amounts:
    """One figure in each cost column."""

    billed_cost: Decimal = ZERO
    effective_cost: Decimal = ZERO
    list_cost: Decimal = ZERO

    @classmethod
    def of(cls, row: Any) -> Amounts:
        """From a mapping or object with the three columns (None reads as zero)."""
        get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name, None))
        return cls(*(get(name) or ZERO for name in COLUMNS))

    def __add__(self, other: Amounts) -> Amounts:
        return Amounts(*(getattr(self, c) + getattr(other, c) for c in COLUMNS))

    def __sub__(self, other: Amounts) -> Amounts:
        return Amounts(*(getattr(self, c) - getattr(other, c) for c in COLUMNS))

    @property
    def is_zero(self) -> bool:
        return all(getattr(self, c) == 0 for c in COLUMNS)

    def items(self) -> list[tuple[str, Decimal]]:
        return [(c, getattr(self, c)) for c in COLUMNS]


def total(amounts: list[Amounts]) -> Amounts:
    result = Amounts()
    for part in amounts:
        result = result + part
    return result


@dataclass
class InvoicedUnit:
    """A unit's invoice of the period and the wholesale cost on its lines."""

    unit: BillingUnit
    invoice: Invoice
    amounts: Amounts
    stale: bool  # drafted from an allocation run other than the latest


@dataclass
class UnbilledValue:
    value: str
    amounts: Amounts


@dataclass
class UnbilledUnit:
    """A unit without an invoice for the period, what it was allocated, and why."""

    unit: BillingUnit
    amounts: Amounts
    reason: str


@dataclass
class CategoryReconciliation:
    category: CostCategory
    period: date
    run: AllocationRun | None
    ingested: Amounts
    invoiced: list[InvoicedUnit] = field(default_factory=list)
    unallocated: Amounts = field(default_factory=Amounts)
    unbilled_values: list[UnbilledValue] = field(default_factory=list)
    unbilled_units: list[UnbilledUnit] = field(default_factory=list)
    credit_notes: list[Invoice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def issued(self) -> Amounts:
        return total([i.amounts for i in self.invoiced if not i.invoice.is_draft])

    @property
    def drafts(self) -> Amounts:
        return total([i.amounts for i in self.invoiced if i.invoice.is_draft])

    @property
    def invoiced_total(self) -> Amounts:
        return self.issued + self.drafts

    @property
    def unbilled(self) -> Amounts:
        return total(
            [v.amounts for v in self.unbilled_values] + [u.amounts for u in self.unbilled_units]
        )

    @property
    def accounted(self) -> Amounts:
        return self.invoiced_total + self.unallocated + self.unbilled

    @property
    def difference(self) -> Amounts:
        return self.ingested - self.accounted

    @property
    def balanced(self) -> bool:
        return self.difference.is_zero

    @property
    def rows(self) -> list[tuple[str, Amounts]]:
        """The table: each figure with its label, ending with the difference."""
        return [
            ("Ingested", self.ingested),
            ("Invoiced, issued", self.issued),
            ("Invoiced, drafts", self.drafts),
            (f"Unallocated ({self.category.fallback_value})", self.unallocated),
            ("Unbilled", self.unbilled),
            ("Difference", self.difference),
        ]

    @property
    def credited(self) -> Decimal:
        return sum((note.total for note in self.credit_notes), ZERO)


@dataclass
class Reconciliation:
    period: date
    ingested: Amounts
    categories: list[CategoryReconciliation]
    notes: list[str] = field(default_factory=list)
    # Who pays: per payer of record, the organizations it carries (`reconcile_payers`).
    payers: list[Any] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return all(c.balanced for c in self.categories)

    @property
    def has_data(self) -> bool:
        return bool(self.categories) and (
            not self.ingested.is_zero or any(c.invoiced for c in self.categories)
        )


def reconcile(period: date) -> Reconciliation:
    """Reconcile the month of `period` for every category that has billing units."""
    from invoices.reconcile_payers import payers_of_record_carried  # it uses Amounts

    period = period.replace(day=1)
    items = CostLineItem.objects.filter(billing_period_start=period)
    ingested = Amounts.of(items.aggregate(**{c: Sum(c) for c in COLUMNS}))
    notes: list[str] = []
    currencies = sorted(items.values_list("billing_currency", flat=True).distinct())
    if len(currencies) > 1:
        notes.append(
            f"The {period:%Y-%m} bill is in {', '.join(currencies)}; the figures add "
            "amounts of different currencies."
        )
    loaded = LoadedPeriod.objects.filter(billing_period_start=period).order_by("-loaded_at")
    last_load = loaded.values_list("loaded_at", flat=True).first()
    refusals = _run_refusals(period)
    units = list(BillingUnit.objects.select_related("category", "plan").order_by("name"))
    by_category: dict[int, list[BillingUnit]] = defaultdict(list)
    for unit in units:
        by_category[unit.category_id].append(unit)
    categories = sorted({u.category for u in units}, key=lambda c: c.name)
    return Reconciliation(
        period=period,
        ingested=ingested,
        categories=[
            _category(category, period, ingested, by_category[category.pk], refusals, last_load)
            for category in categories
        ],
        notes=notes,
        payers=payers_of_record_carried(period),
    )


def _run_refusals(period: date) -> dict[str, str]:
    """What the period's latest finished invoice run said of each unit it refused."""
    run = (
        InvoiceRun.objects.filter(period=period, status=InvoiceRunStatus.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )
    refusals: dict[str, str] = {}
    for note in run.notes if run else []:
        name, sep, reason = str(note).partition(": ")
        if sep and run is not None:
            refusals[name] = f"invoice run {run.pk} ({run.finished_at:%Y-%m-%d}): {reason}"
    return refusals


def _category(
    category: CostCategory,
    period: date,
    ingested: Amounts,
    units: list[BillingUnit],
    refusals: dict[str, str],
    last_load: Any,
) -> CategoryReconciliation:
    run = latest_run(category, period)
    result = CategoryReconciliation(category=category, period=period, run=run, ingested=ingested)
    allocated = _allocated(run)
    invoices = _invoices(units, period)
    billed_values = {unit.value for unit in units}
    for unit in units:
        found = invoices.get(unit.pk)
        if found is None:
            result.unbilled_units.append(
                UnbilledUnit(
                    unit, allocated.get(unit.value, Amounts()), _reason(unit, period, refusals)
                )
            )
            continue
        invoice, wholesale = found
        stale = run is None or invoice.allocation_run_id != run.pk
        result.invoiced.append(InvoicedUnit(unit, invoice, wholesale, stale))
    for value, amounts in sorted(allocated.items()):
        if value in billed_values:
            continue
        if value == category.fallback_value:
            result.unallocated = amounts
        else:
            result.unbilled_values.append(UnbilledValue(value, amounts))
    result.credit_notes = list(
        Invoice.objects.filter(
            kind=DocumentKind.CREDIT_NOTE, period=period, unit__in=[u.pk for u in units]
        )
        .exclude(status=InvoiceStatus.VOID)
        .select_related("unit", "original")
        .order_by("number")
    )
    result.notes = _notes(result, last_load)
    return result


def _allocated(run: AllocationRun | None) -> dict[str, Amounts]:
    """The run's totals per value."""
    if run is None:
        return {}
    rows = (
        AllocationResult.objects.filter(run=run)
        .values("value")
        .annotate(**{c: Sum(c) for c in COLUMNS})
        .order_by()
    )
    return {row["value"]: Amounts.of(row) for row in rows}


def _invoices(units: list[BillingUnit], period: date) -> dict[int, tuple[Invoice, Amounts]]:
    """Each unit's invoice of the period that is not void, with its wholesale per column.

    A unit has at most one: runs replace drafts and leave units with an issued one alone.
    """
    rows = (
        Invoice.objects.filter(
            kind=DocumentKind.INVOICE, period=period, unit__in=[u.pk for u in units]
        )
        .exclude(status=InvoiceStatus.VOID)
        .order_by("unit_id", "-pk")
    )
    sums = {
        row["invoice_id"]: Amounts.of(row)
        for row in InvoiceLine.objects.filter(invoice__in=rows)
        .values("invoice_id")
        .annotate(**{c: Sum(c) for c in COLUMNS})
        .order_by()
    }
    found: dict[int, tuple[Invoice, Amounts]] = {}
    for invoice in rows:
        found.setdefault(invoice.unit_id, (invoice, sums.get(invoice.pk, Amounts())))
    return found


def _reason(unit: BillingUnit, period: date, refusals: dict[str, str]) -> str:
    if unit.name in refusals:
        return refusals[unit.name]
    if unit.plan_id is None:
        return "has no pricing plan; set one to invoice it."
    voided = unit.invoices.filter(
        period=period, status=InvoiceStatus.VOID, kind=DocumentKind.INVOICE
    )
    if voided.exists():
        return "its invoice was voided; run the period again to draft a new one."
    return "has no invoice for the period; start an invoice run."


def _notes(result: CategoryReconciliation, last_load: Any) -> list[str]:
    """Why the figures may not balance, in words."""
    category, period, run = result.category, result.period, result.run
    notes: list[str] = []
    if run is None:
        notes.append(
            f"{category.name} has no allocation for {period:%Y-%m}: nothing is counted as "
            "unallocated or unbilled; run the allocation first."
        )
    elif last_load is not None and run.finished_at is not None and last_load > run.finished_at:
        notes.append(
            f"The {period:%Y-%m} bill was loaded again ({last_load:%Y-%m-%d %H:%M}) after "
            f"{category.name}'s latest allocation ({run.finished_at:%Y-%m-%d %H:%M}); "
            "allocate it again."
        )
    for item in result.invoiced:
        if not item.stale:
            continue
        label = item.invoice.number or f"the draft {item.invoice.pk}"
        drafted = item.invoice.allocation_run_id
        source = f"allocation run {drafted}" if drafted else "an allocation"
        if run is not None:
            notes.append(
                f"{item.unit.name}: {label} was drafted from {source} that run {run.pk} has "
                f"replaced ({category.name} was allocated again since); "
                + (
                    "run the invoices again to re-draft it."
                    if item.invoice.is_draft
                    else "correct it with a credit note if its cost changed."
                )
            )
    return notes

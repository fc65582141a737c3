"""Drafting a period's invoices: each billing unit's allocated cost, priced by its plan.

One run drafts every unit in one transaction (readers see the old drafts or the new);
its progress is written beside it so the run page can show it while it works. A unit
that already has an issued invoice for the period is left alone; a unit that cannot be
invoiced (no plan, no allocation, another currency) is named in the run's notes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from billing.selectors import bill_currencies
from invoices.allocated import (
    AllocatedCost,
    allocated_by_payer,
    allocated_costs,
    latest_run,
)
from invoices.models import (
    BillingUnit,
    ChargeBasis,
    ChargeKind,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PricingPlan,
)
from invoices.money import percent_of, round_money
from invoices.payers import PayerBreakdown
from invoices.pricing import PlanRules, resale_amount
from invoices.services.totals import invoice_totals
from portal.core.errors import ApplicationError

Progress = Callable[[int], None]


class UnitRefused(ApplicationError):
    """A unit the run cannot invoice; the run goes on with the others."""


@transaction.atomic
def invoice_drafts_create(
    *, period: date, run: Any = None, progress: Progress | None = None
) -> tuple[list[Invoice], list[str]]:
    """Draft the invoices of `period` for every unit; the drafts and the refusals.

    Replaces the period's previous drafts; never touches an issued invoice.
    """
    units = list(
        BillingUnit.objects.select_related("plan", "category")
        .prefetch_related("plan__rules", "plan__charges")
        .order_by("name")
    )
    if not units:
        raise ApplicationError(
            "There are no billing units to invoice; create one first.", code="no_units"
        )
    drafted: list[Invoice] = []
    refusals: list[str] = []
    currencies = bill_currencies(period)
    breakdown = PayerBreakdown(period)
    runs: dict[int, Any] = {}
    costs: dict[int, dict[str, list[AllocatedCost]]] = {}
    payers: dict[int, dict[str, dict[str, dict[str, Decimal]]]] = {}
    issued = set(
        Invoice.objects.filter(period=period, kind=DocumentKind.INVOICE)
        .exclude(status__in=[InvoiceStatus.DRAFT, InvoiceStatus.VOID])
        .values_list("unit_id", flat=True)
    )
    Invoice.objects.filter(
        period=period, kind=DocumentKind.INVOICE, status=InvoiceStatus.DRAFT
    ).delete()
    for done, unit in enumerate(units, start=1):
        if unit.pk not in issued:
            category = unit.category
            if category.pk not in runs:
                runs[category.pk] = latest_run(category, period)
                values = [u.value for u in units if u.category_id == category.pk]
                found = runs[category.pk]
                costs[category.pk] = allocated_costs(found, values) if found else {}
                payers[category.pk] = allocated_by_payer(found, values) if found else {}
            by_payer = payers[category.pk].get(unit.value, {})
            paid_by = breakdown(by_payer, unit.plan.cost_basis) if unit.plan else []
            try:
                drafted.append(
                    _draft(
                        unit,
                        period,
                        runs[category.pk],
                        costs[category.pk].get(unit.value, []),
                        paid_by,
                        currencies,
                        run,
                    )
                )
            except UnitRefused as refusal:
                refusals.append(refusal.message)
        if progress is not None:
            progress(done)
    return drafted, refusals


def _draft(
    unit: BillingUnit,
    period: date,
    allocation: Any,
    costs: list[AllocatedCost],
    paid_by: list[dict[str, Any]],
    currencies: set[str],
    run: Any,
) -> Invoice:
    plan = unit.plan
    if plan is None:
        raise UnitRefused(
            f"{unit.name}: has no pricing plan; set one to invoice it.", code="unit_without_plan"
        )
    if allocation is None:
        raise UnitRefused(
            f"{unit.name}: {unit.category.name} has no allocation for {period:%Y-%m}; "
            "run the allocation first.",
            code="not_allocated",
        )
    if currencies and unit.currency not in currencies:
        raise UnitRefused(
            f"{unit.name}: is invoiced in {unit.currency} but the {period:%Y-%m} bill is in "
            f"{', '.join(sorted(currencies))}; no exchange rates are configured.",
            code="currency_mismatch",
        )
    invoice = Invoice.objects.create(
        kind=DocumentKind.INVOICE,
        unit=unit,
        run=run,
        allocation_run=allocation,
        period=period,
        currency=unit.currency,
        cost_basis=plan.cost_basis,
        plan_name=plan.name,
        buyer_name=unit.legal_name,
        buyer_address=unit.address,
        buyer_tax_id=unit.tax_id,
        payers_of_record=paid_by,
    )
    lines = _cost_lines(invoice, unit, plan, costs)
    lines += _charge_lines(invoice, unit, plan, period, lines, start=len(lines) + 1)
    InvoiceLine.objects.bulk_create(lines)
    invoice_totals(invoice, lines)
    invoice.save()
    return invoice


def _cost_lines(
    invoice: Invoice, unit: BillingUnit, plan: PricingPlan, costs: list[AllocatedCost]
) -> list[InvoiceLine]:
    rules = PlanRules(plan.rules.all())
    lines: list[InvoiceLine] = []
    for cost in costs:
        if cost.is_zero:
            continue
        rule = rules.rule_for(cost.service_name, cost.usage_type)
        wholesale = cost.cost(plan.cost_basis)
        lines.append(
            InvoiceLine(
                invoice=invoice,
                position=len(lines) + 1,
                kind=LineKind.SHARED if cost.split_from else LineKind.USAGE,
                service_name=cost.service_name,
                usage_type=cost.usage_type,
                description=_describe(cost),
                split_from=cost.split_from,
                quantity=None if cost.split_from else cost.quantity,
                pricing_unit="" if cost.split_from else cost.pricing_unit,
                wholesale_amount=wholesale,
                billed_cost=cost.billed_cost,
                effective_cost=cost.effective_cost,
                list_cost=cost.list_cost,
                percent=rule.percent if rule else None,
                price_rule=str(rule) if rule else "",
                amount=resale_amount(wholesale, rule, unit.currency),
                tax_rate=unit.tax_rate,
            )
        )
    return lines


def _describe(cost: AllocatedCost) -> str:
    if cost.split_from:
        return f"Share of {cost.split_from}"
    return cost.usage_type or "Usage"


def _charge_lines(
    invoice: Invoice,
    unit: BillingUnit,
    plan: PricingPlan,
    period: date,
    cost_lines: list[InvoiceLine],
    start: int,
) -> list[InvoiceLine]:
    """Fees, then credits, in force for the period; percents apply to the cost lines."""
    subtotal = sum((line.amount for line in cost_lines), Decimal(0))
    lines: list[InvoiceLine] = []
    charges = sorted(
        (c for c in plan.charges.all() if c.applies_to(period)),
        key=lambda c: (c.kind != ChargeKind.FEE, c.description, c.pk),
    )
    for charge in charges:
        if charge.basis == ChargeBasis.PERCENT:
            amount = percent_of(subtotal, charge.amount, unit.currency)
            label = f"{charge.description} ({charge.amount.normalize():f} %)"
        else:
            amount = round_money(charge.amount, unit.currency)
            label = charge.description
        if not amount:
            continue  # a percent of nothing is not worth a line
        sign = -1 if charge.kind == ChargeKind.CREDIT else 1
        lines.append(
            InvoiceLine(
                invoice=invoice,
                position=start + len(lines),
                kind=LineKind.CREDIT if charge.kind == ChargeKind.CREDIT else LineKind.FEE,
                description=label,
                amount=sign * amount,
                tax_rate=unit.tax_rate,
            )
        )
    return lines

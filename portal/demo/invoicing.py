"""Demo invoicing: Globex, the end customer, invoiced for last month by the reseller.

A "Customer" category gives the subsidiary payer's costs to Globex, every loaded month is
allocated, and Globex's invoice of the last full month is drafted and issued, so each role
has something to look at: finance the run and the margin, the customer its own PDF.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from allocation.models import CostCategory
from billing.models import EndCustomer
from invoices.models import BillingUnit, Invoice, InvoiceRun, PricingPlan, SellerProfile
from invoices.services.runs import invoice_run_execute
from invoices.services.setup import billing_unit_create, pricing_plan_create, seller_profile_update
from portal.demo import data
from portal.demo.allocating import allocate_loaded_months, ensure_category
from portal.demo.costs import add_months


def ensure_invoicing(*, actor: Any, today: date, made: Any) -> None:
    """Allocate the Customer category, then invoice last month once."""
    rule = {
        "value": data.CUSTOMER["legal_name"],
        "expression": {"field": "payer", "op": "equals", "values": [data.SUBSIDIARY.payer_id]},
    }
    category = ensure_category(
        actor=actor,
        name=data.CUSTOMER_CATEGORY,
        default_value=data.INTERNAL_VALUE,
        rules=[rule],
        made=made,
    )
    allocate_loaded_months(actor=actor, category=category, made=made)
    period = add_months(today.replace(day=1), -1)
    with transaction.atomic():
        if not SellerProfile.objects.exists():
            seller_profile_update(actor=actor, **data.SELLER)
            made(f"seller profile {data.SELLER['legal_name']}")
        unit = _ensure_unit(actor, category, period, made)
        if not Invoice.objects.filter(unit=unit, period=period).exists():
            run = InvoiceRun.objects.create(period=period, issue=True, created_by=actor)
            invoice_run_execute(actor=actor, run=run)
            made(f"invoice run of {period:%Y-%m}: {'; '.join(run.notes)}")


def _ensure_unit(actor: Any, category: CostCategory, period: date, made: Any) -> BillingUnit:
    name = data.CUSTOMER["legal_name"]
    unit = BillingUnit.objects.filter(name=name).first()
    if unit is not None:
        return unit
    plan = PricingPlan.objects.filter(name=data.PLAN["name"]).first()
    if plan is None:
        # The recurring fee runs from the demo's first invoiced month on.
        charges = [{**charge, "first_month": f"{period:%Y-%m}"} for charge in data.PLAN_CHARGES]
        plan = pricing_plan_create(actor=actor, **data.PLAN, charges=charges)
    unit = billing_unit_create(
        actor=actor,
        name=name,
        category=category,
        value=name,
        legal_name=name,
        address=data.CUSTOMER["address"],
        tax_id=data.CUSTOMER["tax_id"],
        # The bill is in US dollars and no exchange rates are configured.
        currency="USD",
        payment_terms_days=data.UNIT_PAYMENT_TERMS_DAYS,
        tax_rate=data.UNIT_TAX_RATE,
        plan=plan,
        end_customer=EndCustomer.objects.get(legal_name=name),
    )
    made(f"billing unit {name} on plan {plan.name}")
    return unit

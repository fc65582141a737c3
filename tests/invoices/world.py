"""A small reseller's month: two end customers' costs ingested, allocated and priced.

Globex and Initech are told apart by their `customer` tag; the rest is Unallocated.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from allocation.models import AllocationRun, CostCategory
from invoices.models import BillingUnit, PlanCharge, PriceRule, PricingPlan, SellerProfile
from tests.allocation.run_helpers import JAN, category_with, cond, ingest, regular, run
from tests.billing.ingest_fakes import FakeFiles, line

D = Decimal


def usage(customer: str | None, service: str, usage_type: str, cost: str, qty: str, **kw: Any):
    tags = {"customer": customer} if customer else None
    return line(
        service_name=service,
        x_usage_type=usage_type,
        pricing_unit=kw.pop("unit", "Hrs"),
        pricing_quantity=qty,
        billed_cost=cost,
        effective_cost=kw.pop("effective", cost),
        list_cost=kw.pop("list_cost", cost),
        tags=None if tags is None else __import__("json").dumps(tags),
        **kw,
    )


def month_rows() -> list[dict[str, Any]]:
    return [
        usage("globex", "Amazon EC2", "BoxUsage:m5.large", "100.004", "1000"),
        usage("globex", "Amazon EC2", "BoxUsage:m5.large", "20.001", "200"),
        usage("globex", "Amazon EC2", "DataTransfer-Out-Bytes", "10.005", "111.5", unit="GB"),
        usage("globex", "Amazon S3", "TimedStorage-ByteHrs", "33.333", "1500", unit="GB-Mo"),
        usage("initech", "Amazon EC2", "BoxUsage:t3.micro", "7.775", "740"),
        usage("initech", "Amazon RDS", "InstanceUsage:db.t3.small", "49.995", "720"),
        usage(None, "AWS Support (Business)", "Support", "12.34", "1", unit="Month"),
    ]


def allocate(files: FakeFiles, rows: list[dict[str, Any]] | None = None) -> AllocationRun:
    ingest(files, rows if rows is not None else month_rows())
    category = CostCategory.objects.filter(name="End customer").first() or category_with(
        "End customer",
        [
            regular("Globex", cond("tag", "equals", "globex", key="customer")),
            regular("Initech", cond("tag", "equals", "initech", key="customer")),
        ],
    )
    return run(category)


def seller() -> SellerProfile:
    return SellerProfile.objects.create(
        legal_name="Cloudreseller GmbH",
        address="Hauptstrasse 1\n10115 Berlin",
        tax_id="DE123456789",
        payment_details="IBAN DE00 1234 5678 9012 3456 78",
    )


def plan(name: str = "Standard", *, basis: str = "billed_cost", **rules: str) -> PricingPlan:
    """A plan with a global markup and optional per-service ones (service=percent)."""
    plan = PricingPlan.objects.create(name=name, cost_basis=basis)
    for service, percent in rules.items():
        if service == "everything":
            PriceRule.objects.create(plan=plan, scope="global", percent=D(percent))
        else:
            PriceRule.objects.create(
                plan=plan, scope="service", service_name=service, percent=D(percent)
            )
    return plan


def unit(
    value: str, plan: PricingPlan | None, *, tax_rate: str = "19", currency: str = "USD", **kw: Any
) -> BillingUnit:
    return BillingUnit.objects.create(
        name=f"{value} Inc.",
        category=CostCategory.objects.get(name="End customer"),
        value=value,
        legal_name=f"{value} Incorporated",
        address=f"1 {value} Way\nSpringfield",
        tax_id=f"US-{value.upper()}",
        currency=currency,
        tax_rate=D(tax_rate),
        plan=plan,
        **kw,
    )


def fee(plan: PricingPlan, description: str, amount: str, *, basis: str = "flat", **kw: Any):
    return PlanCharge.objects.create(
        plan=plan,
        kind=kw.pop("kind", "fee"),
        description=description,
        basis=basis,
        amount=D(amount),
        first_month=kw.pop("first_month", JAN),
        last_month=kw.pop("last_month", None),
    )


__all__ = ["JAN", "date"]

"""Invoice benchmark: draft, issue and render N billing units' invoices of 30 lines each.

    .venv/bin/python -m bench.invoices [--units 1000] [--profile FILE]

In the `bench` tenant, the cost category "Bench customers" gets an allocation run of a
month of its own whose results, loaded with COPY, give each of N values 29 rows of
service and usage type; N billing units on one plan (global, service and usage-type
markups and a 5 % management fee) are invoiced from it: 29 usage lines and the fee
each. Issued invoices never change, so each run invoices the month after the last one
invoiced (from 2027-01); the allocation bench's categories and month are left alone.

Times the real invoice run end to end (`invoice_run_execute`: `invoice_drafts_create`
for the month, then `invoice_issue` of each draft: number, freeze, PDF rendered from
`templates/invoices/pdf/` and stored, audit), and the floor: the same documents' HTML,
rendered beforehand from the same template, to PDF with bare WeasyPrint and the same
stylesheet (`html_to_pdf`). Prints invoices per second of both and their ratio; target:
at most 1.5x the floor. `--profile FILE` writes a cProfile of the run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

# WeasyPrint logs each step of each document at INFO; both timings are spared it.
logging.getLogger("weasyprint").setLevel(logging.WARNING)

from django.db import connection
from django.db.models import Max, Prefetch, Sum
from django.utils import timezone
from django_tenants.utils import schema_context

from allocation.models import AllocationResult, AllocationRun, CostCategory, RunStatus
from bench.common import SCHEMA, ensure_tenant
from invoices.models import (
    BillingUnit,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    InvoiceRunStatus,
    PlanCharge,
    PriceRule,
    PricingPlan,
    SellerProfile,
)
from invoices.rendering.pdf import document_html, html_to_pdf
from invoices.services.runs import invoice_run_execute

CATEGORY = "Bench customers"
PLAN = "Bench managed service"
FIRST_MONTH = date(2027, 1, 1)
# 29 usage types over six services (pricing unit, typical quantity): 29 lines and a fee.
CATALOGUE: dict[str, list[tuple[str, str, int]]] = {
    "Amazon Elastic Compute Cloud": [
        ("BoxUsage:m7g.large", "Hrs", 720),
        ("BoxUsage:m7g.xlarge", "Hrs", 1440),
        ("BoxUsage:c7g.2xlarge", "Hrs", 720),
        ("BoxUsage:r7g.large", "Hrs", 360),
        ("EBS:VolumeUsage.gp3", "GB-Mo", 2000),
        ("EBS:SnapshotUsage", "GB-Mo", 800),
        ("DataTransfer-Out-Bytes", "GB", 1200),
        ("NatGateway-Hours", "Hrs", 720),
    ],
    "Amazon Simple Storage Service": [
        ("TimedStorage-ByteHrs", "GB-Mo", 50000),
        ("TimedStorage-INT-FA-ByteHrs", "GB-Mo", 20000),
        ("Requests-Tier1", "Requests", 2000000),
        ("Requests-Tier2", "Requests", 9000000),
        ("DataTransfer-Out-Bytes", "GB", 400),
        ("Retrieval-SIA", "GB", 300),
    ],
    "Amazon Relational Database Service": [
        ("InstanceUsage:db.r7g.large", "Hrs", 720),
        ("Multi-AZUsage:db.r7g.large", "Hrs", 720),
        ("RDS:GP3-Storage", "GB-Mo", 500),
        ("RDS:ChargedBackupUsage", "GB-Mo", 900),
        ("RDS:StorageIOUsage", "IOs", 40000000),
    ],
    "AWS Lambda": [
        ("Lambda-GB-Second-ARM", "Lambda-GB-Second", 3000000),
        ("Request-ARM", "Requests", 12000000),
        ("DataTransfer-Out-Bytes", "GB", 50),
    ],
    "Amazon CloudFront": [
        ("DataTransfer-Out-Bytes", "GB", 9000),
        ("Requests-Tier1", "Requests", 30000000),
        ("Requests-HTTPS-Proxy", "Requests", 5000000),
        ("Invalidations", "URL", 1000),
    ],
    "Amazon DynamoDB": [
        ("ReadRequestUnits", "ReadRequestUnits", 90000000),
        ("WriteRequestUnits", "WriteRequestUnits", 20000000),
        ("TimedStorage-ByteHrs", "GB-Mo", 300),
    ],
}
RESULT_COLUMNS = (
    "run_id, value, day, sub_account_id, service_name, usage_type, pricing_unit, "
    "pricing_quantity, billed_cost, effective_cost, list_cost, split_from, row_count"
)


def value_name(index: int) -> str:
    return f"Customer {index:05d}"


# The data ----------------------------------------------------------------------------


def ensure_setup(units: int) -> CostCategory:
    """The category, seller, plan and `units` billing units on the plan; the category's
    other units (of a larger earlier run) are left without a plan, so not invoiced."""
    category = CostCategory.objects.filter(name=CATEGORY).first()
    if category is None:
        category = CostCategory.objects.create(name=CATEGORY)
    if not SellerProfile.objects.exists():
        SellerProfile.objects.create(
            legal_name="Bench Cloud Reseller Ltd",
            address="1 Benchmark Street\nLondon EC1A 1AA",
            tax_id="GB123456789",
            payment_details="IBAN GB00 BENC 0000 0000 0000 00",
        )
    plan = PricingPlan.objects.filter(name=PLAN).first() or _plan()
    existing = set(BillingUnit.objects.filter(category=category).values_list("value", flat=True))
    BillingUnit.objects.bulk_create(
        _unit(category, plan, index)
        for index in range(1, units + 1)
        if value_name(index) not in existing
    )
    wanted = [value_name(index) for index in range(1, units + 1)]
    mine = BillingUnit.objects.filter(category=category)
    mine.exclude(value__in=wanted).update(plan=None)
    mine.filter(value__in=wanted).update(plan=plan)
    return category


def _plan() -> PricingPlan:
    plan = PricingPlan.objects.create(name=PLAN, description="8 % over cost, more on compute")
    PriceRule.objects.bulk_create(
        [
            PriceRule(plan=plan, scope="global", percent=Decimal("8")),
            PriceRule(
                plan=plan,
                scope="service",
                service_name="Amazon Elastic Compute Cloud",
                percent=Decimal("12"),
            ),
            PriceRule(
                plan=plan, scope="usage_type", usage_type="DataTransfer-Out-Bytes", percent=0
            ),
        ]
    )
    PlanCharge.objects.create(
        plan=plan,
        kind="fee",
        description="Managed service",
        basis="percent",
        amount=Decimal("5"),
        first_month=FIRST_MONTH,
    )
    return plan


def _unit(category: CostCategory, plan: PricingPlan, index: int) -> BillingUnit:
    value = value_name(index)
    return BillingUnit(
        name=f"Bench {value}",
        category=category,
        value=value,
        legal_name=f"{value} Holdings Ltd",
        address=f"{index} Market Street\nManchester M1 {index % 10}AA\nUnited Kingdom",
        tax_id=f"GB{index:09d}",
        currency="USD",
        tax_rate=Decimal("20"),
        plan=plan,
    )


def next_month(category: CostCategory) -> date:
    """The month after the last one this category was invoiced for (or 2027-01)."""
    last = Invoice.objects.filter(unit__category=category).aggregate(last=Max("period"))["last"]
    if last is None or last < FIRST_MONTH:
        return FIRST_MONTH
    return date(last.year + last.month // 12, last.month % 12 + 1, 1)


def allocate(category: CostCategory, period: date, units: int) -> tuple[AllocationRun, Decimal]:
    """An allocation run of `period` whose results (COPY) give each value 29 rows."""
    AllocationRun.objects.filter(category=category, period=period).delete()
    now = timezone.now()
    run = AllocationRun.objects.create(
        category=category,
        period=period,
        status=RunStatus.SUCCEEDED,
        started_at=now,
        finished_at=now,
        notes=["Synthetic results written by bench.invoices."],
    )
    rows = io.StringIO()
    total = Decimal(0)
    for index in range(1, units + 1):
        rng = random.Random(index)
        for service, usage_types in CATALOGUE.items():
            for usage_type, pricing_unit, typical in usage_types:
                quantity = Decimal(round(typical * rng.uniform(0.2, 1.8)))
                billed = Decimal(rng.randrange(1_000, 250_000_000)) / 100_000
                effective = (billed * Decimal("0.93")).quantize(Decimal("0.0000001"))
                total += billed
                rows.write(
                    f'{run.pk},{value_name(index)},{period},"",{service},{usage_type},'
                    f'{pricing_unit},{quantity},{billed},{effective},{billed},"",1\n'
                )
    table = AllocationResult._meta.db_table
    with connection.cursor() as cursor:
        statement = f"COPY {table} ({RESULT_COLUMNS}) FROM STDIN WITH (FORMAT csv)"
        with cursor.cursor.copy(statement) as copy:
            copy.write(rows.getvalue())
    return run, total


# The timings -------------------------------------------------------------------------


@contextmanager
def counted_queries() -> Iterator[list[int]]:
    count = [0]

    def counter(execute: Callable[..., Any], *args: Any) -> Any:
        count[0] += 1
        return execute(*args)

    with connection.execute_wrapper(counter):
        yield count


def run_invoices(period: date, profile: str | None) -> tuple[float, InvoiceRun, int]:
    """Time the invoice run of `period` (draft and issue every unit), end to end."""
    run = InvoiceRun.objects.create(period=period, issue=True)
    profiler = cProfile.Profile() if profile else None
    with counted_queries() as queries:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        run = invoice_run_execute(actor=None, run=run)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
    if profiler and profile:
        profiler.dump_stats(profile)
    if run.status != InvoiceRunStatus.SUCCEEDED:
        sys.exit(f"The invoice run ended {run.status}: {run.notes}")
    return seconds, run, queries[0]


def floor_seconds(documents: list[Invoice]) -> float:
    """Bare WeasyPrint on the documents' HTML, rendered beforehand from the same template."""
    pages = [document_html(invoice) for invoice in documents]
    started = time.perf_counter()
    for html in pages:
        html_to_pdf(html)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--profile", help="write a cProfile of the invoice run to this file")
    args = parser.parse_args()
    if args.units < 1:
        sys.exit("--units takes a positive number.")
    ensure_tenant()
    with schema_context(SCHEMA):
        category = ensure_setup(args.units)
        period = next_month(category)
        allocation, allocated = allocate(category, period, args.units)
        html_to_pdf("<p>Fonts and the stylesheet are loaded once per process.</p>")
        seconds, run, queries = run_invoices(period, args.profile)
        documents = list(
            Invoice.objects.filter(run=run, status="issued")
            .select_related("unit")
            .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")))
            .order_by("number")
        )
        floor = floor_seconds(documents)
        lines = InvoiceLine.objects.filter(invoice__run=run)
        wholesale = lines.aggregate(total=Sum("wholesale_amount"))["total"]
        line_count = lines.count()
    issued = len(documents)
    if issued != args.units:
        sys.exit(f"{issued} of {args.units} units were issued an invoice: {run.notes}")
    print(
        f"units: {args.units:,}, month {period:%Y-%m} (allocation run {allocation.pk}), "
        f"invoices issued: {issued:,} ({documents[0].number} to {documents[-1].number}), "
        f"lines: {line_count:,} ({line_count / issued:.0f} per invoice)"
    )
    print(
        f"invoice run end to end (draft, issue, render, store): {seconds:.2f} s, "
        f"{issued / seconds:.1f} invoices/s, {queries / issued:.1f} queries per invoice"
    )
    print(
        f"floor (bare WeasyPrint on the same HTML and stylesheet): {floor:.2f} s, "
        f"{issued / floor:.1f} invoices/s"
    )
    print(f"ratio to floor: {seconds / floor:.2f}x (target <= 1.5x)")
    same = "equals" if wholesale == allocated else "DIFFERS FROM"
    print(f"wholesale on the invoices: {wholesale} {same} the allocated {allocated}")
    if wholesale != allocated:
        sys.exit("The invoices' wholesale does not sum to what was allocated.")


if __name__ == "__main__":
    main()

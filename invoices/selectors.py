"""Reading invoice settings and documents, for the pages, the API and the audit log.

Rows come through `visible_to(user)`: admins, finance and reseller admins see every
document; end customers the issued documents of their own units. Who sees wholesale
cost and margins is `shows_margins(user)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, QuerySet, Sum

from billing.models import LoadedPeriod
from invoices.models import (
    BillingUnit,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    PricingPlan,
)
from invoices.models.plans import PLAN_READERS
from portal.core.errors import ApplicationError

# The roles that see wholesale cost, margins and how each line was priced.
MARGIN_ROLES = PLAN_READERS
CHARGE_KINDS = (LineKind.FEE, LineKind.CREDIT, LineKind.CORRECTION)


def shows_margins(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.role in MARGIN_ROLES)


def plan_data(plan: PricingPlan) -> dict[str, Any]:
    """A plan with its rules and charges as plain data (what the audit log keeps)."""
    return {
        "name": plan.name,
        "description": plan.description,
        "cost_basis": plan.cost_basis,
        "rules": [
            {
                "scope": rule.scope,
                "service_name": rule.service_name,
                "usage_type": rule.usage_type,
                "percent": str(rule.percent),
            }
            for rule in plan.rules.all()
        ],
        "charges": [
            {
                "kind": charge.kind,
                "description": charge.description,
                "basis": charge.basis,
                "amount": str(charge.amount),
                "first_month": f"{charge.first_month:%Y-%m}",
                "last_month": f"{charge.last_month:%Y-%m}" if charge.last_month else None,
            }
            for charge in plan.charges.all()
        ],
    }


def plans_for(user: Any) -> QuerySet[PricingPlan]:
    return (
        PricingPlan.objects.visible_to(user)
        .prefetch_related("rules", "charges")
        .annotate(unit_count=Count("units"))
        .order_by("name")
    )


def units_for(user: Any) -> QuerySet[BillingUnit]:
    return BillingUnit.objects.visible_to(user).select_related("category", "plan", "end_customer")


def month_param(text: str | None, field_name: str = "period") -> date | None:
    """A "YYYY-MM" (or full date) query parameter as its month's first day."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(f"{text}-01" if len(text) == 7 else text).replace(day=1)
    except ValueError:
        raise ApplicationError(
            f"{text!r} is not a month; give YYYY-MM.", code="invalid_period", field=field_name
        ) from None


def invoices_for(
    user: Any,
    *,
    period: date | None = None,
    status: str = "",
    kind: str = "",
    unit: int | None = None,
) -> QuerySet[Invoice]:
    """The user's documents, filtered; each row carries its unit (one query for a list)."""
    rows = Invoice.objects.visible_to(user).select_related("unit", "original")
    if period is not None:
        rows = rows.filter(period=period)
    if status:
        if status not in InvoiceStatus.values:
            raise ApplicationError(
                f"status is one of {', '.join(InvoiceStatus.values)}, not {status!r}.",
                code="invalid_status",
                field="status",
            )
        rows = rows.filter(status=status)
    if kind:
        if kind not in DocumentKind.values:
            raise ApplicationError(
                f"kind is one of {', '.join(DocumentKind.values)}, not {kind!r}.",
                code="invalid_kind",
                field="kind",
            )
        rows = rows.filter(kind=kind)
    if unit is not None:
        rows = rows.filter(unit_id=unit)
    return rows


def invoice_sums(rows: QuerySet[Invoice]) -> list[dict[str, Any]]:
    """Per currency: the invoices of `rows` that count (drafts and issued, not void nor
    credit notes), their subtotal, total, wholesale and margin."""
    counted = rows.filter(kind=DocumentKind.INVOICE).exclude(status=InvoiceStatus.VOID)
    sums = (
        counted.order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            sum_subtotal=Sum("subtotal"),
            sum_total=Sum("total"),
            wholesale=Sum("wholesale_total"),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": row["currency"],
            "count": row["count"],
            "subtotal": row["sum_subtotal"],
            "total": row["sum_total"],
            "wholesale": row["wholesale"],
            "margin": row["sum_subtotal"] - row["wholesale"],
        }
        for row in sums
    ]


def with_lines(rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """`rows` with their lines, in order, and the invoice each credit note corrects."""
    return rows.select_related("original").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position"))
    )


def invoice_with_lines(rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """`rows` with their lines and credit notes, as the invoice pages show them."""
    credit_notes = Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).order_by("pk")
    return with_lines(rows).prefetch_related(Prefetch("credit_notes", queryset=credit_notes))


def invoice_periods(user: Any) -> list[date]:
    """Months that have documents the user sees, newest first."""
    rows = Invoice.objects.visible_to(user).order_by("-period").values_list("period", flat=True)
    return list(rows.distinct())


def loaded_periods() -> list[date]:
    """Months whose cost data is loaded, newest first."""
    rows = LoadedPeriod.objects.order_by("-billing_period_start").values_list(
        "billing_period_start", flat=True
    )
    return list(rows.distinct())


@dataclass
class ServiceSection:
    """An invoice's cost lines of one service, with their sums."""

    name: str
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def wholesale(self) -> Decimal:
        return sum((line.wholesale_amount for line in self.lines), Decimal(0))

    @property
    def margin(self) -> Decimal:
        return self.amount - self.wholesale


@dataclass
class InvoiceSections:
    services: list[ServiceSection]
    charges: list[InvoiceLine]


def invoice_sections(invoice: Invoice) -> InvoiceSections:
    """Cost lines grouped by service (in line order), then fees, credits and corrections."""
    groups: dict[str, ServiceSection] = {}
    charges: list[InvoiceLine] = []
    for line in invoice.lines.all():
        if line.kind in CHARGE_KINDS:
            charges.append(line)
            continue
        name = line.service_name or "Other charges"
        groups.setdefault(name, ServiceSection(name)).lines.append(line)
    return InvoiceSections(services=list(groups.values()), charges=charges)


def credited(invoice: Invoice) -> Decimal:
    """What the invoice's credit notes (not voided) took back, tax included.

    Reads the prefetched `credit_notes` of `invoice_with_lines`.
    """
    return sum(
        (note.total for note in invoice.credit_notes.all() if note.status != InvoiceStatus.VOID),
        Decimal(0),
    )

"""REST shapes of invoice settings, invoice runs, invoices and the reconciliation.

Input serializers check the shape of a request only; `invoices.services` decide the rest,
so the pages and the API refuse alike. Documents come in two shapes: the one end
customers get, and the one with wholesale cost and margins (`shows_margins`).
Amounts are exact decimal text; invoice amounts to the currency's minor unit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from allocation.models import CostCategory
from allocation.serializers import PeriodField
from billing.models import EndCustomer
from billing.serializers import VisibleRelatedField
from invoices.models import (
    BillingUnit,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceRun,
    PlanCharge,
    PriceRule,
    PricingPlan,
    SellerProfile,
)
from invoices.money import minor_unit
from invoices.reconcile import Amounts, CategoryReconciliation, Reconciliation
from invoices.selectors import credited
from portal.core.serializers import ExactDecimalField


def money(amount: Decimal | None, currency: str) -> str | None:
    """An invoice amount as text to the currency's minor unit (amounts are rounded already)."""
    if amount is None:
        return None
    return str(Decimal(amount).quantize(minor_unit(currency)))


# Settings ----------------------------------------------------------------------------


class SellerProfileSerializer(serializers.ModelSerializer[SellerProfile]):
    class Meta:
        model = SellerProfile
        fields = [
            "id",
            "legal_name",
            "address",
            "tax_id",
            "invoice_prefix",
            "credit_note_prefix",
            "payment_details",
        ]


class SellerProfileInputSerializer(serializers.Serializer[Any]):
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    invoice_prefix = serializers.CharField(max_length=10, required=False, allow_blank=True)
    credit_note_prefix = serializers.CharField(max_length=10, required=False, allow_blank=True)
    payment_details = serializers.CharField(required=False, allow_blank=True)


class PriceRuleSerializer(serializers.ModelSerializer[PriceRule]):
    class Meta:
        model = PriceRule
        fields = ["id", "scope", "service_name", "usage_type", "percent"]


class PlanChargeSerializer(serializers.ModelSerializer[PlanCharge]):
    first_month = PeriodField()
    last_month = PeriodField(allow_null=True)

    class Meta:
        model = PlanCharge
        fields = ["id", "kind", "description", "basis", "amount", "first_month", "last_month"]


class PricingPlanSerializer(serializers.ModelSerializer[PricingPlan]):
    rules = PriceRuleSerializer(many=True, read_only=True)
    charges = PlanChargeSerializer(many=True, read_only=True)
    unit_count = serializers.SerializerMethodField()

    class Meta:
        model = PricingPlan
        fields = [
            "id",
            "name",
            "description",
            "cost_basis",
            "rules",
            "charges",
            "unit_count",
            "created_at",
        ]

    def get_unit_count(self, plan: PricingPlan) -> int:
        count = getattr(plan, "unit_count", None)
        return plan.units.count() if count is None else int(count)


class PricingPlanInputSerializer(serializers.Serializer[Any]):
    """Rules and charges are lists of objects, checked row by row by the service."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True)
    cost_basis = serializers.CharField(required=False)
    rules = serializers.ListField(child=serializers.JSONField(), required=False)
    charges = serializers.ListField(child=serializers.JSONField(), required=False)


class BillingUnitSerializer(serializers.ModelSerializer[BillingUnit]):
    category_name = serializers.CharField(source="category.name", read_only=True)
    plan_name = serializers.CharField(source="plan.name", read_only=True, default=None)
    end_customer_name = serializers.CharField(
        source="end_customer.legal_name", read_only=True, default=None
    )

    class Meta:
        model = BillingUnit
        fields = [
            "id",
            "name",
            "category",
            "category_name",
            "value",
            "legal_name",
            "address",
            "tax_id",
            "currency",
            "payment_terms_days",
            "tax_rate",
            "plan",
            "plan_name",
            "end_customer",
            "end_customer_name",
        ]


class BillingUnitInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    category = VisibleRelatedField(queryset=CostCategory.objects.all())
    value = serializers.CharField(max_length=200)
    legal_name = serializers.CharField(max_length=200)
    address = serializers.CharField(required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=50, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=20, required=False)
    payment_terms_days = serializers.IntegerField(required=False)
    tax_rate = ExactDecimalField(required=False)
    plan = VisibleRelatedField(queryset=PricingPlan.objects.all(), required=False, allow_null=True)
    end_customer = VisibleRelatedField(
        queryset=EndCustomer.objects.all(), required=False, allow_null=True
    )


# Runs --------------------------------------------------------------------------------


class InvoiceRunSerializer(serializers.ModelSerializer[InvoiceRun]):
    period = PeriodField(read_only=True)
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    progress_percent = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = InvoiceRun
        fields = [
            "id",
            "period",
            "issue",
            "status",
            "units_done",
            "units_total",
            "progress_percent",
            "notes",
            "created_at",
            "started_at",
            "finished_at",
            "created_by",
        ]


class InvoiceRunInputSerializer(serializers.Serializer[Any]):
    period = PeriodField()
    issue = serializers.BooleanField(required=False, default=False)


# Documents ---------------------------------------------------------------------------

LINE_FIELDS = [
    "position",
    "kind",
    "service_name",
    "usage_type",
    "description",
    "split_from",
    "quantity",
    "pricing_unit",
    "amount",
    "tax_rate",
]
LINE_MARGIN_FIELDS = [
    "wholesale_amount",
    "billed_cost",
    "effective_cost",
    "list_cost",
    "margin",
    "percent",
    "price_rule",
]


def line_data(line: InvoiceLine, currency: str, *, margins: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "position": line.position,
        "kind": line.kind,
        "service_name": line.service_name,
        "usage_type": line.usage_type,
        "description": line.description,
        "split_from": line.split_from,
        "quantity": None if line.quantity is None else str(line.quantity),
        "pricing_unit": line.pricing_unit,
        "amount": money(line.amount, currency),
        "tax_rate": f"{Decimal(line.tax_rate).normalize():f}",
    }
    if margins:
        data.update(
            wholesale_amount=str(line.wholesale_amount),
            billed_cost=str(line.billed_cost),
            effective_cost=str(line.effective_cost),
            list_cost=str(line.list_cost),
            margin=str(line.margin),
            percent=None if line.percent is None else str(line.percent),
            price_rule=line.price_rule,
        )
    return data


def _url(name: str, pk: int) -> str | None:
    """A download's address, once the download routes are mounted."""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return None


class InvoiceSerializer(serializers.ModelSerializer[Invoice]):
    """A document as its buyer may see it."""

    period = PeriodField(read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    original_number = serializers.CharField(source="original.number", default=None)

    MONEY = ("subtotal", "tax_total", "total")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "kind",
            "status",
            "number",
            "unit",
            "unit_name",
            "period",
            "currency",
            "issue_date",
            "due_date",
            "buyer_name",
            "subtotal",
            "tax_total",
            "total",
            "original",
            "original_number",
            "reason",
            "paid_at",
            "voided_at",
            "void_reason",
        ]

    def to_representation(self, instance: Invoice) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        for name in self.MONEY:
            data[name] = money(getattr(instance, name), instance.currency)
        return data


class InvoiceMarginSerializer(InvoiceSerializer):
    """A document with its wholesale cost and margin, for admins, finance and resellers."""

    margin = serializers.SerializerMethodField()
    wholesale_total = ExactDecimalField(read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [
            *InvoiceSerializer.Meta.fields,
            "cost_basis",
            "plan_name",
            "wholesale_total",
            "margin",
            "run",
            "allocation_run",
            "payment_reference",
        ]

    def get_margin(self, invoice: Invoice) -> str:
        """What the document adds to the margin: a credit note takes its subtotal back."""
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            return str(money(-invoice.subtotal, invoice.currency))
        return str(invoice.margin)


class _DetailMixin:
    """Lines, taxes, parties, credit notes and downloads of one document."""

    margins = False

    def detail(self, invoice: Invoice, data: dict[str, Any]) -> dict[str, Any]:
        currency = invoice.currency
        data.update(
            seller_name=invoice.seller_name,
            seller_address=invoice.seller_address,
            seller_tax_id=invoice.seller_tax_id,
            payment_details=invoice.payment_details,
            buyer_address=invoice.buyer_address,
            buyer_tax_id=invoice.buyer_tax_id,
            taxes=[
                {"rate": t["rate"], "base": money(Decimal(t["base"]), currency),
                 "tax": money(Decimal(t["tax"]), currency)}
                for t in invoice.taxes
            ],
            lines=[line_data(x, currency, margins=self.margins) for x in invoice.lines.all()],
            credit_notes=[
                {"id": n.pk, "number": n.number, "status": n.status,
                 "total": money(n.total, currency)}
                for n in invoice.credit_notes.all()
            ],
            credited=money(credited(invoice), currency),
            downloads={
                "pdf": _url("api-invoice-pdf", invoice.pk) if not invoice.is_draft else None,
                "csv": _url("api-invoice-csv", invoice.pk),
            },
        )  # fmt: skip
        return data


class InvoiceDetailSerializer(_DetailMixin, InvoiceSerializer):
    def to_representation(self, instance: Invoice) -> dict[str, Any]:
        return self.detail(instance, super().to_representation(instance))


class InvoiceMarginDetailSerializer(_DetailMixin, InvoiceMarginSerializer):
    margins = True

    def to_representation(self, instance: Invoice) -> dict[str, Any]:
        return self.detail(instance, super().to_representation(instance))


class IssueInputSerializer(serializers.Serializer[Any]):
    issue_date = serializers.DateField(required=False)


class VoidInputSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class PayInputSerializer(serializers.Serializer[Any]):
    paid_on = serializers.DateField(required=False)
    reference = serializers.CharField(required=False, allow_blank=True, default="")


class CreditNoteInputSerializer(serializers.Serializer[Any]):
    amount = ExactDecimalField(required=False, allow_null=True)
    reason = serializers.CharField(allow_blank=True, required=False, default="")


# Reconciliation ----------------------------------------------------------------------


def amounts_data(amounts: Amounts) -> dict[str, str]:
    return {column: str(value) for column, value in amounts.items()}


def category_data(part: CategoryReconciliation) -> dict[str, Any]:
    return {
        "category": part.category.pk,
        "category_name": part.category.name,
        "unallocated_value": part.category.fallback_value,
        "allocation_run": part.run.pk if part.run else None,
        "balanced": part.balanced,
        "ingested": amounts_data(part.ingested),
        "invoiced_issued": amounts_data(part.issued),
        "invoiced_drafts": amounts_data(part.drafts),
        "unallocated": amounts_data(part.unallocated),
        "unbilled": amounts_data(part.unbilled),
        "difference": amounts_data(part.difference),
        "invoices": [
            {
                "unit": item.unit.pk,
                "unit_name": item.unit.name,
                "invoice": item.invoice.pk,
                "number": item.invoice.number,
                "status": item.invoice.status,
                "allocation_run": item.invoice.allocation_run_id,
                "stale": item.stale,
                **amounts_data(item.amounts),
            }
            for item in part.invoiced
        ],
        "unbilled_values": [
            {"value": item.value, **amounts_data(item.amounts)} for item in part.unbilled_values
        ],
        "unbilled_units": [
            {
                "unit": item.unit.pk,
                "unit_name": item.unit.name,
                "reason": item.reason,
                **amounts_data(item.amounts),
            }
            for item in part.unbilled_units
        ],
        "credit_notes": [
            {
                "id": note.pk,
                "number": note.number,
                "status": note.status,
                "unit_name": note.unit.name,
                "original_number": note.original.number if note.original else None,
                "currency": note.currency,
                "subtotal": money(note.subtotal, note.currency),
                "total": money(note.total, note.currency),
                "reason": note.reason,
            }
            for note in part.credit_notes
        ],
        "notes": part.notes,
    }


def reconciliation_data(result: Reconciliation) -> dict[str, Any]:
    return {
        "period": f"{result.period:%Y-%m}",
        "balanced": result.balanced,
        "ingested": amounts_data(result.ingested),
        "categories": [category_data(part) for part in result.categories],
        "notes": result.notes,
    }

"""REST shapes of invoices and credit notes: one for their buyers, one with wholesale
cost and margins; amounts to the currency's minor unit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse
from rest_framework import serializers

from allocation.serializers import PeriodField
from invoices.models import DocumentKind, Invoice, InvoiceLine
from invoices.selectors import credited
from portal.core.money import minor_unit
from portal.core.serializers import ExactDecimalField


def money(amount: Decimal | None, currency: str) -> str | None:
    """An invoice amount as text to the currency's minor unit (amounts are rounded already)."""
    if amount is None:
        return None
    return str(Decimal(amount).quantize(minor_unit(currency)))


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


# What a document shows beyond its buyer's view (also in the API schema's answer).
MARGIN_FIELDS = (
    "cost_basis",
    "plan_name",
    "wholesale_total",
    "margin",
    "run",
    "allocation_run",
    "payment_reference",
    "payers_of_record",
)


class BillPayerSerializer(serializers.Serializer[Any]):
    payer = serializers.CharField(help_text="The payer account id whose bill the cost came from.")
    name = serializers.CharField()


class PayerOfRecordSerializer(serializers.Serializer[Any]):
    """Who paid the cloud provider for part of the document's cost (transfers resolved)."""

    payer = serializers.CharField(help_text="The payer of record's account id.")
    name = serializers.CharField()
    bills = BillPayerSerializer(many=True)
    transferred = serializers.BooleanField(
        help_text="Whether some of the cost came from other payers' bills through transfers."
    )
    wholesale = serializers.CharField(help_text="Exact wholesale, in the cost basis column.")


class InvoiceMarginSerializer(InvoiceSerializer):
    """A document with its wholesale cost and margin, for admins, finance and resellers."""

    margin = serializers.SerializerMethodField()
    wholesale_total = ExactDecimalField(read_only=True)
    payers_of_record = PayerOfRecordSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, *MARGIN_FIELDS]

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
    amount = ExactDecimalField(required=False, allow_null=True, max_digits=18, decimal_places=4)
    reason = serializers.CharField(allow_blank=True, required=False, default="")

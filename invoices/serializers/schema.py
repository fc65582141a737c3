"""The shapes of invoice answers as the API schema describes them.

`InvoiceApi` picks its serializer by role, and the detail serializers add lines, taxes and
parties in `to_representation`; these classes only describe the result, so one schema
covers every role: the margin fields are present for admins, finance and reseller admins
and absent for end customers.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from invoices.serializers.documents import MARGIN_FIELDS, InvoiceSerializer
from portal.core.serializers import ExactDecimalField

MARGIN_ONLY = "Only for admins, finance and reseller admins."


def _money(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(help_text="Decimal text to the currency's minor unit.", **kwargs)


def _margin_text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(required=False, help_text=MARGIN_ONLY, **kwargs)


class InvoiceTaxSchema(serializers.Serializer[Any]):
    rate = serializers.CharField()
    base = _money()
    tax = _money()


class InvoiceLineSchema(serializers.Serializer[Any]):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    service_name = serializers.CharField(allow_blank=True)
    usage_type = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    split_from = serializers.CharField(allow_blank=True, allow_null=True)
    quantity = serializers.CharField(allow_null=True)
    pricing_unit = serializers.CharField(allow_blank=True)
    amount = _money()
    tax_rate = serializers.CharField()
    wholesale_amount = _margin_text()
    billed_cost = _margin_text()
    effective_cost = _margin_text()
    list_cost = _margin_text()
    margin = _margin_text()
    percent = _margin_text(allow_null=True)
    price_rule = serializers.JSONField(required=False, help_text=MARGIN_ONLY)


class CreditNoteRefSchema(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    total = _money()


class DownloadsSchema(serializers.Serializer[Any]):
    pdf = serializers.CharField(allow_null=True, help_text="None while a draft.")
    csv = serializers.CharField(allow_null=True)


class InvoiceAnswerSchema(InvoiceSerializer):
    """An invoice or credit note in a list."""

    original_number = serializers.CharField(allow_null=True, read_only=True)
    subtotal = _money(read_only=True)
    tax_total = _money(read_only=True)
    total = _money(read_only=True)
    cost_basis = _margin_text()
    plan_name = _margin_text(allow_blank=True)
    wholesale_total = ExactDecimalField(required=False, help_text=MARGIN_ONLY)
    margin = _margin_text()
    run = serializers.IntegerField(required=False, allow_null=True, help_text=MARGIN_ONLY)
    allocation_run = serializers.IntegerField(
        required=False, allow_null=True, help_text=MARGIN_ONLY
    )
    payment_reference = _margin_text(allow_blank=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, *MARGIN_FIELDS]


class InvoiceDetailAnswerSchema(InvoiceAnswerSchema):
    """One invoice or credit note with its parties, taxes, lines and downloads."""

    seller_name = serializers.CharField(allow_blank=True)
    seller_address = serializers.CharField(allow_blank=True)
    seller_tax_id = serializers.CharField(allow_blank=True)
    payment_details = serializers.CharField(allow_blank=True)
    buyer_address = serializers.CharField(allow_blank=True)
    buyer_tax_id = serializers.CharField(allow_blank=True)
    taxes = InvoiceTaxSchema(many=True)
    lines = InvoiceLineSchema(many=True)
    credit_notes = CreditNoteRefSchema(many=True)
    credited = _money()
    downloads = DownloadsSchema()

    class Meta(InvoiceAnswerSchema.Meta):
        fields = [
            *InvoiceAnswerSchema.Meta.fields,
            "seller_name",
            "seller_address",
            "seller_tax_id",
            "payment_details",
            "buyer_address",
            "buyer_tax_id",
            "taxes",
            "lines",
            "credit_notes",
            "credited",
            "downloads",
        ]


# Reconciliation (`invoices.serializers.reconciliation`) --------------------------------


class AmountsSchema(serializers.Serializer[Any]):
    billed_cost = ExactDecimalField()
    effective_cost = ExactDecimalField()
    list_cost = ExactDecimalField()


class ReconciledInvoiceSchema(AmountsSchema):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    invoice = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    allocation_run = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField(help_text="Drafted from an older allocation run.")


class UnbilledValueSchema(AmountsSchema):
    value = serializers.CharField()


class UnbilledUnitSchema(AmountsSchema):
    unit = serializers.IntegerField()
    unit_name = serializers.CharField()
    reason = serializers.CharField()


class ReconciledCreditNoteSchema(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    unit_name = serializers.CharField()
    original_number = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    subtotal = _money()
    total = _money()
    reason = serializers.CharField(allow_blank=True)


class CategoryReconciliationSchema(serializers.Serializer[Any]):
    category = serializers.IntegerField()
    category_name = serializers.CharField()
    unallocated_value = serializers.CharField()
    allocation_run = serializers.IntegerField(allow_null=True)
    balanced = serializers.BooleanField()
    ingested = AmountsSchema()
    invoiced_issued = AmountsSchema()
    invoiced_drafts = AmountsSchema()
    unallocated = AmountsSchema()
    unbilled = AmountsSchema()
    difference = AmountsSchema()
    invoices = ReconciledInvoiceSchema(many=True)
    unbilled_values = UnbilledValueSchema(many=True)
    unbilled_units = UnbilledUnitSchema(many=True)
    credit_notes = ReconciledCreditNoteSchema(many=True)
    notes = serializers.ListField(child=serializers.CharField())


class CarriedOrganizationSchema(AmountsSchema):
    name = serializers.CharField(help_text="The organization whose accounts' cost it is.")
    bills = serializers.ListField(
        child=serializers.CharField(), help_text="The payers whose bills carried it."
    )
    accounts = serializers.IntegerField()


class PayerOfRecordSchema(AmountsSchema):
    payer = serializers.CharField(help_text="The payer of record's account id.")
    name = serializers.CharField()
    transferred_from = serializers.ListField(
        child=serializers.CharField(),
        help_text="Other payers whose month's bill it pays through billing transfers.",
    )
    organizations = CarriedOrganizationSchema(many=True)


class ReconciliationSchema(serializers.Serializer[Any]):
    """Ingested total = invoiced wholesale + unallocated + unbilled, per category; and per
    payer of record, the organizations whose cost it carries (their sum is the ingested)."""

    period = serializers.CharField(help_text="YYYY-MM")
    balanced = serializers.BooleanField()
    ingested = AmountsSchema()
    categories = CategoryReconciliationSchema(many=True)
    notes = serializers.ListField(child=serializers.CharField())
    payers_of_record = PayerOfRecordSchema(many=True)

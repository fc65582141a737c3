"""REST shapes of the seller profile, pricing plans, billing units and invoice runs."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from allocation.models import CostCategory
from allocation.serializers import PeriodField
from billing.models import EndCustomer
from billing.serializers import VisibleRelatedField
from invoices.models import (
    BillingUnit,
    InvoiceRun,
    PlanCharge,
    PriceRule,
    PricingPlan,
    SellerProfile,
)
from portal.core.serializers import ExactDecimalField

# Settings ----------------------------------------------------------------------------


class SellerProfileSerializer(serializers.ModelSerializer[SellerProfile]):
    id = serializers.IntegerField(read_only=True, allow_null=True, help_text="None until saved.")

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
    plan_name = serializers.CharField(
        source="plan.name", read_only=True, default=None, allow_null=True
    )
    end_customer_name = serializers.CharField(
        source="end_customer.legal_name", read_only=True, default=None, allow_null=True
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
    tax_rate = ExactDecimalField(required=False, max_digits=7, decimal_places=4)
    plan = VisibleRelatedField(queryset=PricingPlan.objects.all(), required=False, allow_null=True)
    end_customer = VisibleRelatedField(
        queryset=EndCustomer.objects.all(), required=False, allow_null=True
    )


# Runs --------------------------------------------------------------------------------


class InvoiceRunSerializer(serializers.ModelSerializer[InvoiceRun]):
    period = PeriodField(read_only=True)
    created_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
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

"""Whom invoices are for (billing units) and from (the tenant's seller profile)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from invoices.models.plans import PLAN_READERS, PricingPlan
from portal.core.access import ScopedQuerySet

CURRENCY_HELP = "ISO 4217 code, e.g. USD; must be the currency of the bill."


class SellerProfileQuerySet(ScopedQuerySet["SellerProfile"]):
    readable_by = PLAN_READERS


class SellerProfile(models.Model):
    """The tenant as the issuer of its invoices: one row per tenant."""

    legal_name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    invoice_prefix = models.CharField(max_length=10, default="INV")
    credit_note_prefix = models.CharField(max_length=10, default="CN")
    payment_details = models.TextField(blank=True, help_text="Bank details printed on invoices.")

    objects = SellerProfileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(invoice_prefix=models.F("credit_note_prefix")),
                name="seller_distinct_prefixes",
            )
        ]

    def __str__(self) -> str:
        return self.legal_name


class BillingUnitQuerySet(ScopedQuerySet["BillingUnit"]):
    readable_by = PLAN_READERS


class BillingUnit(models.Model):
    """Who gets an invoice: the costs of one value of a cost category, priced by a plan.

    E.g. the value "Globex" of the category "End customer", or "Payments" of "Team".
    """

    name = models.CharField(max_length=200, unique=True)
    category = models.ForeignKey(
        "allocation.CostCategory", on_delete=models.PROTECT, related_name="billing_units"
    )
    value = models.CharField(max_length=200, help_text="The category value whose costs it pays.")
    legal_name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, default="USD", help_text=CURRENCY_HELP)
    payment_terms_days = models.PositiveIntegerField(
        default=30, validators=[MaxValueValidator(365)]
    )
    tax_rate = models.DecimalField(
        max_digits=7,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Percent, e.g. 20 for 20 %.",
    )
    plan = models.ForeignKey(
        PricingPlan, on_delete=models.PROTECT, null=True, blank=True, related_name="units"
    )
    end_customer = models.ForeignKey(
        "billing.EndCustomer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="billing_units",
        help_text="Its users may download this unit's issued invoices.",
    )

    objects = BillingUnitQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "value"], name="billingunit_one_per_value"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="billingunit_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def buyer(self) -> dict[str, Any]:
        return {"name": self.legal_name, "address": self.address, "tax_id": self.tax_id}

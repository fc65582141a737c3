"""Pricing plans: how a billing unit's allocated cost becomes the amounts it is invoiced.

A plan picks the cost column it prices (billed, effective or list cost), adjusts it by
markup or discount rules (the most specific matching rule wins: usage type, then
service, then global; no rule means the cost as it is), and adds fees and credits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from portal.core.access import ScopedQuerySet
from portal.users.roles import Role

PLAN_READERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})


def money_field(**options: Any) -> models.DecimalField:
    """An amount in a currency: rounded to its minor unit (at most 4 places) by the code."""
    return models.DecimalField(max_digits=18, decimal_places=4, **options)


def percent_field(**options: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=9, decimal_places=4, **options)


class CostBasis(models.TextChoices):
    BILLED = "billed_cost", "Billed cost"
    EFFECTIVE = "effective_cost", "Effective (amortized) cost"
    LIST = "list_cost", "List (on-demand) cost"


class PricingPlanQuerySet(ScopedQuerySet["PricingPlan"]):
    readable_by = PLAN_READERS


class PricingPlan(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    cost_basis = models.CharField(
        max_length=16, choices=CostBasis.choices, default=CostBasis.BILLED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PricingPlanQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RuleScope(models.TextChoices):
    GLOBAL = "global", "Every service"
    SERVICE = "service", "One service"
    USAGE_TYPE = "usage_type", "One usage type"


class PriceRule(models.Model):
    """A markup (positive percent) or discount (negative) on part of the cost."""

    plan = models.ForeignKey(PricingPlan, on_delete=models.CASCADE, related_name="rules")
    scope = models.CharField(max_length=16, choices=RuleScope.choices)
    service_name = models.CharField(max_length=200, blank=True)
    usage_type = models.CharField(max_length=200, blank=True)
    percent = percent_field(
        validators=[MinValueValidator(Decimal("-100"))],
        help_text="+15 is a 15 % markup, -5 a 5 % discount.",
    )

    class Meta:
        ordering = ["plan", "scope", "service_name", "usage_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "scope", "service_name", "usage_type"],
                name="pricerule_unique_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(percent__gte=-100), name="pricerule_discount_at_most_100"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope="global", service_name="", usage_type="")
                    | models.Q(scope="service", usage_type="") & ~models.Q(service_name="")
                    | models.Q(scope="usage_type") & ~models.Q(usage_type="")
                ),
                name="pricerule_scope_fields",
            ),
        ]

    def __str__(self) -> str:
        target = {
            RuleScope.GLOBAL: "all services",
            RuleScope.SERVICE: self.service_name,
            RuleScope.USAGE_TYPE: self.usage_type,
        }[RuleScope(self.scope)]
        sign = "+" if self.percent >= 0 else ""
        return f"{sign}{self.percent.normalize():f}% on {target}"


class ChargeKind(models.TextChoices):
    FEE = "fee", "Fee"
    CREDIT = "credit", "Credit"


class ChargeBasis(models.TextChoices):
    FLAT = "flat", "Flat amount"
    PERCENT = "percent", "Percent of the subtotal"


class PlanCharge(models.Model):
    """A fee or credit of a plan, for the months from `first_month` to `last_month`.

    One-off: both months equal; recurring without end: no `last_month`.
    """

    plan = models.ForeignKey(PricingPlan, on_delete=models.CASCADE, related_name="charges")
    kind = models.CharField(max_length=8, choices=ChargeKind.choices)
    description = models.CharField(max_length=200)
    basis = models.CharField(max_length=8, choices=ChargeBasis.choices)
    amount = money_field(
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1e13"))],
        help_text="A flat amount in the unit's currency, or a percent; always positive.",
    )
    first_month = models.DateField()
    last_month = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "kind", "first_month", "description"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="charge_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(first_month__day=1), name="charge_first_month_first_day"
            ),
            models.CheckConstraint(
                condition=models.Q(last_month__isnull=True)
                | models.Q(last_month__day=1) & models.Q(last_month__gte=models.F("first_month")),
                name="charge_month_range",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    def applies_to(self, period: date) -> bool:
        """In force for the billing period starting on `period`."""
        return self.first_month <= period and (self.last_month is None or period <= self.last_month)

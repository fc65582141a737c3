"""Budgets: an amount per period, thresholds to alert at, and the alerts fired."""

from __future__ import annotations

from django.db import models

from portal.core.access import ScopedQuerySet


class BudgetQuerySet(ScopedQuerySet["Budget"]):
    readable_by = frozenset({"admin", "finance", "reseller_admin", "team_lead"})

    def for_team_lead(self, user: object) -> BudgetQuerySet:
        from django.db.models import Q

        return self.filter(Q(team__leads=user) | Q(team__members=user)).distinct()


class Budget(models.Model):
    """An amount of cost per period for a team, a billing unit, a cost category value or
    the whole tenant, with explorer filters narrowing what counts."""

    class Scope(models.TextChoices):
        TENANT = "tenant", "Whole tenant"
        TEAM = "team", "Team"
        BILLING_UNIT = "billing_unit", "Billing unit"
        CATEGORY_VALUE = "category_value", "Cost category value"

    class Period(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        YEARLY = "yearly", "Yearly"

    name = models.CharField(max_length=200, unique=True)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.TENANT)
    team = models.ForeignKey(
        "billing.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="budgets"
    )
    billing_unit = models.ForeignKey(
        "invoices.BillingUnit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
    )
    category = models.ForeignKey(
        "allocation.CostCategory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="budgets",
    )
    value = models.CharField(max_length=200, blank=True, help_text="The category's value.")
    period = models.CharField(max_length=10, choices=Period.choices, default=Period.MONTHLY)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    # {"2026-01": "1200.00", ...}: a month's own amount, for monthly budgets that vary.
    monthly_amounts = models.JSONField(default=dict, blank=True)
    metric = models.CharField(
        max_length=16,
        choices=[("billed_cost", "Billed cost"), ("effective_cost", "Amortized cost")],
        default="billed_cost",
    )
    # Explorer filters, [[dimension, [values]], ...], each one ANDed.
    filters = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = BudgetQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_not_negative")
        ]

    def __str__(self) -> str:
        return self.name


class BudgetThreshold(models.Model):
    """When to alert: a percent of the budget or an amount, on actual or forecast spend."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="thresholds")
    kind = models.CharField(
        max_length=10, choices=[("percent", "Percent"), ("absolute", "Amount")], default="percent"
    )
    value = models.DecimalField(max_digits=18, decimal_places=2)
    basis = models.CharField(
        max_length=10, choices=[("actual", "Actual"), ("forecast", "Forecast")], default="actual"
    )

    class Meta:
        ordering = ["budget", "basis", "value"]
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gt=0), name="threshold_positive"),
            models.UniqueConstraint(
                fields=["budget", "kind", "value", "basis"], name="threshold_unique"
            ),
        ]

    def __str__(self) -> str:
        unit = " %" if self.kind == "percent" else ""
        return f"{self.value.normalize():f}{unit} of {self.basis} spend"


class BudgetAlert(models.Model):
    """A threshold crossed in one period: at most one per threshold and period, whoever
    checks and however often (the unique constraint decides between concurrent checks)."""

    threshold = models.ForeignKey(BudgetThreshold, on_delete=models.CASCADE, related_name="alerts")
    period_start = models.DateField()
    fired_at = models.DateTimeField(auto_now_add=True)
    budget_amount = models.DecimalField(max_digits=18, decimal_places=2)
    actual = models.DecimalField(max_digits=24, decimal_places=10)
    forecast = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["-fired_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["threshold", "period_start"], name="budgetalert_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.threshold} crossed in the period from {self.period_start}"

"""REST shapes of budgets: a budget with its thresholds and its current period's spend;
its alerts; and what a write may send (shape only: the budget services decide the rest)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from allocation.models import CostCategory
from billing.models import Team
from insights.budgets.figures import BudgetFigures
from insights.budgets.inputs import clean_filters, clean_monthly_amounts
from insights.models import Budget, BudgetAlert, BudgetThreshold
from invoices.models import BillingUnit
from portal.core.errors import ApplicationError
from portal.core.serializers import ExactDecimalField

THRESHOLD_KINDS = BudgetThreshold._meta.get_field("kind").choices or []
THRESHOLD_BASES = BudgetThreshold._meta.get_field("basis").choices or []
METRICS = Budget._meta.get_field("metric").choices or []
MAX_MONTHS = 240
MONTHLY_AMOUNTS = {
    "type": "object",
    "description": 'A month\'s own amount, {"YYYY-MM": "amount"}, for monthly budgets.',
    "additionalProperties": {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"},
    "example": {"2026-12": "2400.00"},
}


def choice_field(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field described by a pattern, not an enum: other APIs have fields named
    scope, metric, kind or basis with choices of their own, and the schema would give
    every such enum one ambiguous name."""
    keys = [key for key, _ in choices]

    @extend_schema_field(
        {
            "type": "string",
            "pattern": "^(" + "|".join(keys) + ")$",
            "description": "One of: " + ", ".join(f"`{key}`" for key in keys) + ".",
            "example": keys[0],
        }
    )
    class PatternChoiceField(serializers.ChoiceField):
        pass

    return PatternChoiceField(choices=choices, **kwargs)


# Output ------------------------------------------------------------------------------


class ThresholdSerializer(serializers.ModelSerializer[BudgetThreshold]):
    kind = choice_field(THRESHOLD_KINDS)
    value = ExactDecimalField()
    basis = choice_field(THRESHOLD_BASES)

    class Meta:
        model = BudgetThreshold
        fields = ["id", "kind", "value", "basis"]


class FilterSerializer(serializers.Serializer[Any]):
    dimension = serializers.CharField(
        max_length=200, help_text="A dimension of the cost explorer: service, tag:team, ..."
    )
    values = serializers.ListField(
        child=serializers.CharField(max_length=200), min_length=1, max_length=50
    )


class AlertSerializer(serializers.ModelSerializer[BudgetAlert]):
    threshold_text = serializers.CharField(source="threshold.__str__", read_only=True)
    budget_amount = ExactDecimalField()
    actual = ExactDecimalField()
    forecast = ExactDecimalField(allow_null=True)

    class Meta:
        model = BudgetAlert
        fields = [
            "id",
            "threshold",
            "threshold_text",
            "period_start",
            "fired_at",
            "budget_amount",
            "actual",
            "forecast",
            "currency",
        ]


class SpendSerializer(serializers.Serializer[Any]):
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Exclusive: the next period's first day.")
    budget_amount = ExactDecimalField(help_text="The period's amount (a month's own, if set).")
    actual = ExactDecimalField(help_text="Cost of the period up to yesterday.")
    forecast = ExactDecimalField(
        allow_null=True, help_text="The period's end at the run rate; null before any cost."
    )
    currency = serializers.CharField()
    actual_percent = ExactDecimalField(allow_null=True)
    forecast_percent = ExactDecimalField(allow_null=True)


class BudgetSerializer(serializers.Serializer[BudgetFigures]):
    """A budget (from its `BudgetFigures`) with its current period's spend and status."""

    id = serializers.IntegerField(source="budget.pk")
    name = serializers.CharField(source="budget.name")
    scope = choice_field(Budget.Scope.choices, source="budget.scope")
    scope_text = serializers.CharField(source="about.scope")
    team = serializers.IntegerField(source="budget.team_id", allow_null=True)
    billing_unit = serializers.IntegerField(source="budget.billing_unit_id", allow_null=True)
    category = serializers.IntegerField(source="budget.category_id", allow_null=True)
    value = serializers.CharField(source="budget.value")
    period = choice_field(Budget.Period.choices, source="budget.period")
    amount = ExactDecimalField(source="budget.amount")
    monthly_amounts = serializers.SerializerMethodField()
    metric = choice_field(METRICS, source="budget.metric")
    filters = serializers.SerializerMethodField()
    thresholds = ThresholdSerializer(source="budget.thresholds.all", many=True)
    created_at = serializers.DateTimeField(source="budget.created_at")
    spend = serializers.SerializerMethodField()
    spend_error = serializers.CharField(
        source="error", allow_null=True, help_text="Why the spend could not be measured."
    )
    status = choice_field([(s, s) for s in ("ok", "warning", "over", "unknown")])
    status_text = serializers.CharField(source="status_label")
    latest_alert = AlertSerializer(allow_null=True)

    @extend_schema_field(SpendSerializer(allow_null=True))
    def get_spend(self, figures: BudgetFigures) -> dict[str, Any] | None:
        spend = figures.spend
        if spend is None:
            return None
        answer = {
            "period_start": spend.period_start,
            "period_end": spend.period_end,
            "budget_amount": spend.budget_amount,
            "actual": spend.actual,
            "forecast": spend.forecast,
            "currency": spend.currency,
            "actual_percent": figures.actual_percent,
            "forecast_percent": figures.forecast_percent,
        }
        return dict(SpendSerializer(answer).data)

    @extend_schema_field(MONTHLY_AMOUNTS)
    def get_monthly_amounts(self, figures: BudgetFigures) -> dict[str, str]:
        return {m: str(a) for m, a in (figures.budget.monthly_amounts or {}).items()}

    @extend_schema_field(FilterSerializer(many=True))
    def get_filters(self, figures: BudgetFigures) -> list[dict[str, Any]]:
        return [{"dimension": d, "values": list(v)} for d, v in figures.budget.filters or []]


# Input -------------------------------------------------------------------------------


class ThresholdInputSerializer(serializers.Serializer[Any]):
    kind = choice_field(THRESHOLD_KINDS, default="percent")
    value = ExactDecimalField(
        max_digits=18, decimal_places=2, help_text="Percent of the budget, or an amount."
    )
    basis = choice_field(THRESHOLD_BASES, default="actual")


class BudgetInputSerializer(serializers.Serializer[Any]):
    """A budget to create, or the fields to change (with `thresholds`, they are replaced)."""

    name = serializers.CharField(max_length=200)
    scope = choice_field(Budget.Scope.choices, default=Budget.Scope.TENANT)
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    billing_unit = serializers.PrimaryKeyRelatedField(
        queryset=BillingUnit.objects.select_related("category"), allow_null=True, required=False
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=CostCategory.objects.all(), allow_null=True, required=False
    )
    value = serializers.CharField(
        max_length=200, allow_blank=True, required=False, help_text="The category's value."
    )
    period = choice_field(Budget.Period.choices, default=Budget.Period.MONTHLY)
    amount = ExactDecimalField(max_digits=18, decimal_places=2)
    monthly_amounts = serializers.DictField(
        child=serializers.CharField(max_length=40), required=False
    )
    metric = choice_field(METRICS, default="billed_cost")
    filters = serializers.ListField(child=FilterSerializer(), required=False, max_length=10)
    thresholds = serializers.ListField(
        child=ThresholdInputSerializer(),
        required=False,
        max_length=20,
        help_text="Omitted on create: 90 % of actual and 100 % of forecast spend.",
    )

    def validate_amount(self, amount: Decimal) -> Decimal:
        if amount < 0:
            raise serializers.ValidationError("An amount is zero or more.")
        return amount

    def validate_monthly_amounts(self, amounts: dict[str, str]) -> dict[str, str]:
        if len(amounts) > MAX_MONTHS:
            raise serializers.ValidationError(f"At most {MAX_MONTHS} months have own amounts.")
        return _checked(clean_monthly_amounts, amounts)

    def validate_filters(self, rows: list[dict[str, Any]]) -> list[list[Any]]:
        return _checked(clean_filters, [(row["dimension"], row["values"]) for row in rows])

    def validate_thresholds(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "value": format(row["value"], "f")} for row in rows]


def _checked(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ApplicationError as refused:
        field = refused.field or ""
        raise serializers.ValidationError(refused.message.removeprefix(f"{field}: ")) from None

"""The budget form: the budget's scope and amount, its thresholds and its explorer filters
as repeated rows. Forms check the shape of input; the budget services decide the rest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from allocation.models import CostCategory
from billing.models import Team
from insights.budgets.inputs import (
    DEFAULT_THRESHOLDS,
    clean_filters,
    filter_dimensions,
    monthly_amounts_text,
    only_the_scopes_rows,
    parse_monthly_amounts,
)
from insights.models import Budget, BudgetThreshold
from invoices.models import BillingUnit
from portal.core.errors import ApplicationError

METRICS = Budget._meta.get_field("metric").choices or []
THRESHOLD_KINDS = BudgetThreshold._meta.get_field("kind").choices or []
THRESHOLD_BASES = BudgetThreshold._meta.get_field("basis").choices or []


class UnitChoiceField(forms.ModelChoiceField[BillingUnit]):
    def label_from_instance(self, obj: BillingUnit) -> str:
        return f"{obj.name} ({obj.category.name}: {obj.value})"


class BudgetForm(forms.Form):
    name = forms.CharField(max_length=200)
    scope = forms.ChoiceField(
        choices=Budget.Scope.choices,
        widget=forms.RadioSelect,
        initial=Budget.Scope.TENANT,
        help_text="Whose cost the budget counts.",
    )
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    billing_unit = UnitChoiceField(
        queryset=BillingUnit.objects.select_related("category"), required=False
    )
    category = forms.ModelChoiceField(
        queryset=CostCategory.objects.all(), required=False, label="Cost category"
    )
    value = forms.CharField(
        max_length=200, required=False, label="Category value", help_text="e.g. Web"
    )
    period = forms.ChoiceField(choices=Budget.Period.choices, initial=Budget.Period.MONTHLY)
    amount = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(0),
        label="Amount per period",
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
    )
    monthly_amounts = forms.CharField(
        required=False,
        label="Own amounts of some months",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-03 1500\n2026-12 2400"}),
        help_text="Monthly budgets only: one month and its amount a line; other months "
        "take the amount above.",
    )
    metric = forms.ChoiceField(choices=METRICS, initial="billed_cost")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("team", "billing_unit", "category"):
            field: Any = self.fields[name]
            field.queryset = field.queryset.visible_to(user)

    def clean_monthly_amounts(self) -> dict[str, str]:
        try:
            return parse_monthly_amounts(self.cleaned_data.get("monthly_amounts") or "")
        except ApplicationError as refused:
            raise forms.ValidationError(refused.message) from None

    def budget_fields(self) -> dict[str, Any]:
        """The cleaned data as the budget services take them: only the scope's own row."""
        data = self.cleaned_data
        return only_the_scopes_rows(dict(data), data["scope"], data["period"])


def budget_initial(budget: Budget) -> dict[str, Any]:
    return {
        "name": budget.name,
        "scope": budget.scope,
        "team": budget.team_id,
        "billing_unit": budget.billing_unit_id,
        "category": budget.category_id,
        "value": budget.value,
        "period": budget.period,
        "amount": budget.amount,
        "monthly_amounts": monthly_amounts_text(budget.monthly_amounts or {}),
        "metric": budget.metric,
    }


class ThresholdForm(forms.Form):
    kind = forms.ChoiceField(choices=THRESHOLD_KINDS, initial="percent")
    value = forms.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "placeholder": "e.g. 150"}),
    )
    basis = forms.ChoiceField(choices=THRESHOLD_BASES, initial="actual")


class BaseThresholdFormSet(forms.BaseFormSet[ThresholdForm]):
    def rows(self) -> list[tuple[int, dict[str, Any]]]:
        """(form index, threshold) of the rows with a value; an emptied row is removed."""
        return [
            (index, {**form.cleaned_data, "value": str(form.cleaned_data["value"])})
            for index, form in enumerate(self.forms)
            if form.cleaned_data.get("value") is not None
        ]


ThresholdFormSet = forms.formset_factory(
    ThresholdForm, formset=BaseThresholdFormSet, extra=1, max_num=20, validate_max=True
)


class FilterForm(forms.Form):
    dimension = forms.ChoiceField(required=False)
    values = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Amazon EC2, Amazon S3"}),
    )

    def __init__(self, *args: Any, dimensions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["dimension"]
        field.choices = [("", "—"), *dimensions]


class BaseFilterFormSet(forms.BaseFormSet[FilterForm]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.dimensions = filter_dimensions()
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "dimensions": self.dimensions}

    def filters(self) -> list[list[Any]]:
        """The filled rows as the budget keeps them; an emptied row is removed."""
        rows = []
        for form in self.forms:
            dimension = form.cleaned_data.get("dimension") or ""
            values = [v for v in (form.cleaned_data.get("values") or "").split(",") if v.strip()]
            if values and not dimension:
                raise ApplicationError(
                    "filters: choose the dimension of " + ", ".join(values) + ".",
                    code="invalid",
                    field="filters",
                )
            if dimension:
                rows.append((dimension, values))
        return clean_filters(rows, known=[key for key, _ in self.dimensions])


FilterFormSet = forms.formset_factory(
    FilterForm, formset=BaseFilterFormSet, extra=1, max_num=10, validate_max=True
)


def threshold_initial(budget: Budget | None) -> list[dict[str, Any]]:
    if budget is None:
        return [{**row, "value": Decimal(row["value"])} for row in DEFAULT_THRESHOLDS]
    return [{"kind": t.kind, "value": t.value, "basis": t.basis} for t in budget.thresholds.all()]


def filter_initial(budget: Budget | None) -> list[dict[str, Any]]:
    if budget is None:
        return []
    return [
        {"dimension": dimension, "values": ", ".join(values)}
        for dimension, values in budget.filters or []
    ]

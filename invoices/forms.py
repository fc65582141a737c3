"""Forms of the invoice pages: they check the shape of input; services decide the rest.

Row choices (categories, plans, end customers, units) come from `visible_to(user)`.
A pricing plan's rules and charges are formsets: one row each, blank rows ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from allocation.models import CostCategory
from billing.models import EndCustomer
from invoices.models import (
    BillingUnit,
    ChargeBasis,
    ChargeKind,
    CostBasis,
    DocumentKind,
    InvoiceStatus,
    PricingPlan,
)
from invoices.models.plans import RuleScope
from invoices.models.units import CURRENCY_HELP
from invoices.selectors import loaded_periods

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONTH = forms.DateInput(attrs={"type": "month", "placeholder": "YYYY-MM"}, format="%Y-%m")


def _month_choices(months: list[date], blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(f"{m:%Y-%m}", f"{m:%Y-%m}") for m in months]
    return [("", blank), *choices] if blank is not None else choices


class ScopedForm(forms.Form):
    """A form whose row choices are limited to what `user` may see."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.visible_to(user)  # type: ignore[union-attr]


# Documents ---------------------------------------------------------------------------


class InvoiceFilterForm(ScopedForm):
    period = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *InvoiceStatus.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Invoices and credit notes"),
                                                      *DocumentKind.choices])  # fmt: skip
    unit = forms.ModelChoiceField(
        queryset=BillingUnit.objects.all(), required=False, empty_label="Every unit"
    )

    def __init__(self, *args: Any, periods: list[date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        period = self.fields["period"]
        assert isinstance(period, forms.ChoiceField)
        period.choices = _month_choices(periods, "Every period")


class VoidForm(forms.Form):
    prefix = "void"
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept with the voided invoice."
    )


class PayForm(forms.Form):
    prefix = "pay"
    paid_on = forms.DateField(required=False, widget=DATE, help_text="Empty: today.")
    reference = forms.CharField(max_length=200, required=False, label="Payment reference")


class CreditNoteForm(forms.Form):
    prefix = "credit"
    amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=4,
        label="Amount before tax",
        help_text="Empty credits the whole invoice.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class RunForm(forms.Form):
    period = forms.ChoiceField(help_text="A billing period whose cost data is loaded.")
    issue = forms.BooleanField(
        required=False,
        label="Issue the invoices too",
        help_text="Otherwise they stay drafts to review and issue one by one.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _month_choices(loaded_periods())

    def clean_period(self) -> date:
        return date.fromisoformat(f"{self.cleaned_data['period']}-01")


class ReconciliationForm(forms.Form):
    period = forms.ChoiceField()

    def __init__(self, *args: Any, periods: list[date], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _month_choices(periods)


# Settings ----------------------------------------------------------------------------


class SellerProfileForm(forms.Form):
    legal_name = forms.CharField(max_length=200, help_text="Printed as the issuer.")
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax id")
    invoice_prefix = forms.CharField(
        max_length=10, initial="INV", help_text="Invoice numbers read PREFIX-YEAR-000001."
    )
    credit_note_prefix = forms.CharField(max_length=10, initial="CN")
    payment_details = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Bank details printed on invoices.",
    )


class BillingUnitForm(ScopedForm):
    name = forms.CharField(max_length=200, help_text="How the unit is called here.")
    category = forms.ModelChoiceField(queryset=CostCategory.objects.all(), label="Cost category")
    value = forms.CharField(
        max_length=200, help_text="The category value whose costs it pays, e.g. Globex."
    )
    legal_name = forms.CharField(max_length=200, help_text="The buyer printed on its invoices.")
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax id")
    currency = forms.CharField(max_length=10, initial="USD", help_text=CURRENCY_HELP)
    payment_terms_days = forms.IntegerField(
        initial=30, label="Payment terms (days)", help_text="0 to 365."
    )
    tax_rate = forms.CharField(
        initial="0", label="Tax rate (%)", help_text="E.g. 19 for 19 %; 0 for none."
    )
    plan = forms.ModelChoiceField(
        queryset=PricingPlan.objects.all(),
        required=False,
        label="Pricing plan",
        empty_label="No plan (not invoiced)",
    )
    end_customer = forms.ModelChoiceField(
        queryset=EndCustomer.objects.all(),
        required=False,
        empty_label="None",
        help_text="Its users may read and download this unit's issued invoices.",
    )


class PricingPlanForm(forms.Form):
    name = forms.CharField(max_length=100)
    cost_basis = forms.ChoiceField(
        choices=CostBasis.choices, help_text="The cost column of the bill this plan prices."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class RuleForm(forms.Form):
    scope = forms.ChoiceField(choices=RuleScope.choices)
    service_name = forms.CharField(max_length=200, required=False, label="Service")
    usage_type = forms.CharField(max_length=200, required=False, label="Usage type")
    percent = forms.CharField(
        max_length=20, required=False, label="Percent", help_text="+15 markup, -5 discount"
    )

    def has_changed(self) -> bool:
        # A row with only the default scope chosen is a blank row.
        data = {name: self[name].value() for name in ("service_name", "usage_type", "percent")}
        return any(str(value or "").strip() for value in data.values())


class ChargeForm(forms.Form):
    kind = forms.ChoiceField(choices=ChargeKind.choices)
    description = forms.CharField(max_length=200, required=False)
    basis = forms.ChoiceField(choices=ChargeBasis.choices)
    amount = forms.CharField(max_length=30, required=False, help_text="Flat, or percent")
    first_month = forms.CharField(max_length=10, required=False, widget=MONTH)
    last_month = forms.CharField(
        max_length=10, required=False, widget=MONTH, help_text="Empty: no end"
    )

    def has_changed(self) -> bool:
        names = ("description", "amount", "first_month", "last_month")
        return any(str(self[name].value() or "").strip() for name in names)


RuleFormSet = forms.formset_factory(RuleForm, extra=3, can_delete=True)
ChargeFormSet = forms.formset_factory(ChargeForm, extra=2, can_delete=True)


def submitted_rows(formset: forms.BaseFormSet) -> list[tuple[int, dict[str, Any]]]:
    """(form index, data) of the rows to keep: filled in and not marked for deletion."""
    rows = []
    for index, form in enumerate(formset.forms):
        if not form.has_changed() or form.cleaned_data.get("DELETE"):
            continue
        rows.append((index, {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}))
    return rows

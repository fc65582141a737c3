"""Pages of the invoice settings: billing units, pricing plans, the seller profile."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import ListView, View

from invoices import selectors
from invoices.apis import SETUP_WRITERS
from invoices.forms import (
    BillingUnitForm,
    ChargeFormSet,
    PricingPlanForm,
    RuleFormSet,
    SellerProfileForm,
    submitted_rows,
)
from invoices.models import BillingUnit, PricingPlan, SellerProfile
from invoices.services.setup import (
    billing_unit_create,
    billing_unit_update,
    pricing_plan_create,
    pricing_plan_update,
    seller_profile_update,
)
from invoices.views.common import ReadersMixin
from portal.core.errors import ApplicationError
from portal.core.forms import FormServiceView
from portal.core.views import WriteRoleRequiredMixin


class UnitListView(ReadersMixin, ListView[BillingUnit]):
    model = BillingUnit
    template_name = "invoices/unit_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[BillingUnit]:
        return selectors.units_for(self.request.user)


class UnitFormView(FormServiceView):
    form_class = BillingUnitForm
    write_roles = SETUP_WRITERS
    template_name = "invoices/form.html"
    success_url_name = "invoice-units"
    extra_context = {"noun": "billing unit"}

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "user": self.request.user}


class UnitCreateView(UnitFormView):
    def perform(self, data: dict[str, Any]) -> Any:
        return billing_unit_create(actor=self.request.user, **data)


class UnitChangeView(UnitFormView):
    model = BillingUnit

    def perform(self, data: dict[str, Any]) -> Any:
        return billing_unit_update(actor=self.request.user, instance=self.get_object(), **data)


class SellerProfileView(FormServiceView):
    form_class = SellerProfileForm
    write_roles = SETUP_WRITERS
    template_name = "invoices/seller_form.html"
    success_url_name = "invoice-seller"

    def get_initial(self) -> dict[str, Any]:
        profile = SellerProfile.objects.visible_to(self.request.user).order_by("pk").first()
        if profile is None:
            return {}
        fields = SellerProfileForm.base_fields
        return {name: getattr(profile, name) for name in fields}

    def perform(self, data: dict[str, Any]) -> Any:
        return seller_profile_update(actor=self.request.user, **data)


class PlanListView(ReadersMixin, ListView[PricingPlan]):
    model = PricingPlan
    template_name = "invoices/plan_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[PricingPlan]:
        return selectors.plans_for(self.request.user)


ROW_FIELD = re.compile(r"^(rules|charges)\[(\d+)\](?:\.(\w+))?$")


class PlanFormView(WriteRoleRequiredMixin, View):
    """A plan with its rules and charges: three forms on one page, saved by one service.

    A refusal of the service that names a row (`rules[1].percent`) shows on that row.
    """

    write_roles = SETUP_WRITERS
    template_name = "invoices/plan_form.html"
    plan: PricingPlan | None = None

    def _load(self, pk: int | None) -> None:
        if pk is not None:
            rows = PricingPlan.objects.visible_to(self.request.user)
            self.plan = get_object_or_404(rows.prefetch_related("rules", "charges"), pk=pk)

    def _forms(self, data: Any = None) -> dict[str, Any]:
        plan = self.plan
        initial = selectors.plan_data(plan) if plan else {}
        return {
            "form": PricingPlanForm(data, initial=initial or {"cost_basis": "billed_cost"}),
            "rules": RuleFormSet(data, prefix="rules", initial=initial.get("rules")),
            "charges": ChargeFormSet(data, prefix="charges", initial=initial.get("charges")),
        }

    def _render(self, parts: dict[str, Any]) -> HttpResponse:
        return render(self.request, self.template_name, {**parts, "object": self.plan})

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        self._load(pk)
        return self._render(self._forms())

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        self._load(pk)
        parts = self._forms(request.POST)
        form, rules, charges = parts["form"], parts["rules"], parts["charges"]
        if not (form.is_valid() and rules.is_valid() and charges.is_valid()):
            return self._render(parts)
        kept = {"rules": submitted_rows(rules), "charges": submitted_rows(charges)}
        data = {
            **form.cleaned_data,
            "rules": [row for _, row in kept["rules"]],
            "charges": [row for _, row in kept["charges"]],
        }
        try:
            if self.plan is None:
                plan = pricing_plan_create(actor=request.user, **data)
            else:
                plan = pricing_plan_update(actor=request.user, instance=self.plan, **data)
        except ApplicationError as exc:
            self._show(exc, parts, kept)
            return self._render(parts)
        messages.success(request, f"Saved {plan}.")
        return redirect("invoice-plans")

    def _show(
        self, exc: ApplicationError, parts: dict[str, Any], kept: dict[str, list[Any]]
    ) -> None:
        """Put the service's refusal on the row and field it names."""
        match = ROW_FIELD.match(exc.field or "")
        if match is None:
            form = parts["form"]
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return
        kind, index, name = match.group(1), int(match.group(2)), match.group(3)
        formset = parts[kind]
        if index >= len(kept[kind]):
            formset._non_form_errors = formset.error_class([exc.message])
            return
        row = formset.forms[kept[kind][index][0]]
        row.add_error(name if name in row.fields else None, exc.message)

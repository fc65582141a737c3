"""Pages of invoices, invoice runs, their settings and the reconciliation, under /invoices/.

Admins, finance and reseller admins read everything, wholesale cost and margins
included, and change the settings; admins and finance run, issue, void and credit. End
customers read their own issued documents (no margins); team leads none of it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import DetailView, ListView, TemplateView, View

from invoices import selectors
from invoices.apis import INVOICE_WRITERS, SETUP_WRITERS
from invoices.forms import (
    BillingUnitForm,
    ChargeFormSet,
    CreditNoteForm,
    InvoiceFilterForm,
    PayForm,
    PricingPlanForm,
    ReconciliationForm,
    RuleFormSet,
    RunForm,
    SellerProfileForm,
    VoidForm,
    submitted_rows,
)
from invoices.models import (
    BillingUnit,
    DocumentKind,
    Invoice,
    InvoiceRun,
    InvoiceRunStatus,
    PricingPlan,
    SellerProfile,
)
from invoices.models.documents import DOCUMENT_READERS
from invoices.reconcile import reconcile
from invoices.selectors import MARGIN_ROLES, shows_margins
from invoices.services.corrections import credit_note_issue, invoice_mark_paid, invoice_void
from invoices.services.issuing import invoice_issue
from invoices.services.runs import invoice_run_request
from invoices.services.setup import (
    billing_unit_create,
    billing_unit_update,
    pricing_plan_create,
    pricing_plan_update,
    seller_profile_update,
)
from portal.core.errors import ApplicationError
from portal.core.forms import FormServiceView
from portal.core.permissions import may_write
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin


class ReadersMixin(ScopedViewMixin):
    """Only `read_roles` open the page (others get 403); rows through `visible_to`.

    Tells the template whether the user may change things (`can_write`) and see
    wholesale cost and margins (`margins`).
    """

    read_roles: ClassVar[frozenset[str]] = MARGIN_ROLES
    write_roles: ClassVar[frozenset[str]] = SETUP_WRITERS

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and user.role not in self.read_roles:
            raise PermissionDenied("Your role may not see this.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["can_write"] = may_write(self.request.user, self.write_roles)
        context["can_invoice"] = may_write(self.request.user, INVOICE_WRITERS)
        context["margins"] = shows_margins(self.request.user)
        return context


# Documents ---------------------------------------------------------------------------


class InvoiceListView(ReadersMixin, ListView[Invoice]):
    model = Invoice
    read_roles = DOCUMENT_READERS
    template_name = "invoices/invoice_list.html"
    paginate_by = 50
    form: InvoiceFilterForm
    rows: QuerySet[Invoice]

    def get_queryset(self) -> QuerySet[Invoice]:
        user = self.request.user
        self.form = InvoiceFilterForm(
            self.request.GET or None, user=user, periods=selectors.invoice_periods(user)
        )
        if not self.form.is_valid():
            self.rows = selectors.invoices_for(user)
            return self.rows
        data = self.form.cleaned_data
        unit = data.get("unit")
        self.rows = selectors.invoices_for(
            user,
            period=selectors.month_param(data.get("period")),
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            unit=unit.pk if unit else None,
        )
        return self.rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.form
        context["sums"] = selectors.invoice_sums(self.rows)
        return context


class InvoiceDetailView(ReadersMixin, DetailView[Invoice]):
    model = Invoice
    read_roles = DOCUMENT_READERS
    write_roles = INVOICE_WRITERS
    template_name = "invoices/invoice_detail.html"

    def get_queryset(self) -> QuerySet[Invoice]:
        return selectors.invoice_with_lines(selectors.invoices_for(self.request.user))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        invoice = self.object
        context["sections"] = selectors.invoice_sections(invoice)
        # A credit note's lines carry no wholesale: it takes resale back, not cost.
        context["line_margins"] = context["margins"] and invoice.kind == DocumentKind.INVOICE
        credited = selectors.credited(invoice)
        context["credited"] = credited
        context["amount_due"] = invoice.total - credited
        if context["can_write"]:
            context["void_form"] = VoidForm()
            context["pay_form"] = PayForm()
            context["credit_form"] = CreditNoteForm()
        return context


def form_errors(form: forms.Form) -> str:
    """A form's errors in one line, each after its field's label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return "; ".join(parts)


class InvoiceActionView(WriteRoleRequiredMixin, View):
    """One POST that moves a document on: issue, void, pay or credit-note."""

    write_roles = INVOICE_WRITERS
    action: ClassVar[str] = ""
    FORMS: ClassVar[dict[str, type[forms.Form] | None]] = {
        "issue": None,
        "void": VoidForm,
        "pay": PayForm,
        "credit-note": CreditNoteForm,
    }

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = get_object_or_404(Invoice.objects.visible_to(request.user), pk=pk)
        form_class = self.FORMS[self.action]
        data: dict[str, Any] = {}
        if form_class is not None:
            form = form_class(request.POST)
            if not form.is_valid():
                messages.error(request, form_errors(form))
                return redirect("invoice-detail", pk=invoice.pk)
            data = form.cleaned_data
        try:
            result = self.perform(invoice, data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invoice-detail", pk=invoice.pk)
        messages.success(request, self.done(result))
        return redirect("invoice-detail", pk=result.pk)

    def perform(self, invoice: Invoice, data: dict[str, Any]) -> Invoice:
        actor = self.request.user
        if self.action == "issue":
            return invoice_issue(actor=actor, invoice=invoice)
        if self.action == "void":
            return invoice_void(actor=actor, invoice=invoice, reason=data["reason"])
        if self.action == "pay":
            return invoice_mark_paid(
                actor=actor, invoice=invoice, paid_on=data["paid_on"], reference=data["reference"]
            )
        return credit_note_issue(
            actor=actor, invoice=invoice, amount=data["amount"], reason=data["reason"]
        )

    def done(self, result: Invoice) -> str:
        return {
            "issue": f"Issued {result.number}.",
            "void": f"Voided {result.number}; it keeps its number.",
            "pay": f"Recorded the payment of {result.number}.",
            "credit-note": f"Issued credit note {result.number}.",
        }[self.action]


# Runs --------------------------------------------------------------------------------


class RunListView(ReadersMixin, ListView[InvoiceRun]):
    model = InvoiceRun
    write_roles = INVOICE_WRITERS
    template_name = "invoices/run_list.html"
    paginate_by = 25

    def get_queryset(self) -> QuerySet[InvoiceRun]:
        return super().get_queryset().select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if context["can_write"]:
            context["form"] = kwargs.get("form") or RunForm()
        return context


class RunCreateView(WriteRoleRequiredMixin, View):
    write_roles = INVOICE_WRITERS

    def post(self, request: HttpRequest) -> HttpResponse:
        form = RunForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a billing period whose cost data is loaded.")
            return redirect("invoice-runs")
        data = form.cleaned_data
        try:
            run = invoice_run_request(
                actor=request.user, period=data["period"], issue=data["issue"]
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invoice-runs")
        messages.success(request, f"The invoice run for {run.period:%Y-%m} is queued.")
        return redirect("invoice-run", pk=run.pk)


class RunDetailView(ReadersMixin, DetailView[InvoiceRun]):
    model = InvoiceRun
    write_roles = INVOICE_WRITERS
    template_name = "invoices/run_detail.html"

    def get_queryset(self) -> QuerySet[InvoiceRun]:
        return super().get_queryset().select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = self.object
        context["running"] = run.status in (InvoiceRunStatus.QUEUED, InvoiceRunStatus.RUNNING)
        context["invoices"] = selectors.invoices_for(self.request.user).filter(run=run)
        return context


# Settings ----------------------------------------------------------------------------


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


class ReconciliationView(ReadersMixin, TemplateView):
    """The period's bill against its invoices; `?period=YYYY-MM`, else the latest month."""

    # The figures are those of billing units' categories: readable with the units.
    model = BillingUnit
    template_name = "invoices/reconciliation.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        periods = sorted(
            set(selectors.loaded_periods()) | set(selectors.invoice_periods(self.request.user)),
            reverse=True,
        )
        period: date | None = periods[0] if periods else None
        form = ReconciliationForm(self.request.GET or None, periods=periods)
        if self.request.GET:
            if form.is_valid():
                period = selectors.month_param(form.cleaned_data["period"])
            else:
                context["error"] = "Choose a month whose cost data is loaded or that has invoices."
        context["form"] = form
        context["period"] = period
        if period is not None and "error" not in context:
            context["result"] = reconcile(period)
        return context

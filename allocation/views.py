"""Pages of cost categories and allocation runs, mounted under /allocation/.

Admins, finance and reseller admins read; admins run allocations. Amounts are shown
rounded to the bill currency's minor unit, the stored value (every digit) in their title.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import DetailView, ListView, View

from allocation.engine.run import allocation_runs_fail_stopped
from allocation.explain import explain_line_item, explain_value, run_totals
from allocation.forms import CategoryForm, VersionForm, version_initial
from allocation.models import (
    ALLOCATION_READERS,
    AllocationRun,
    CostCategory,
    Rule,
    RuleKind,
    RuleSet,
    RunStatus,
    SplitMethod,
    SplitRule,
)
from allocation.preview import allocation_preview
from allocation.selectors import ruleset_data
from allocation.services import allocation_run_request, cost_category_create, ruleset_create
from allocation.value_line_items import largest_line_items
from billing.models import LoadedPeriod, TagKey
from billing.selectors import bill_currencies
from portal.core.errors import ApplicationError
from portal.core.filters import id_param
from portal.core.forms import FormServiceView
from portal.core.permissions import ADMIN_ONLY, may_write
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin

OPS = {
    "equals": "is",
    "one_of": "is one of",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "contains": "contains",
}


def expression_text(node: dict[str, Any]) -> str:
    """A rule's expression as a sentence, e.g. `service is "Amazon S3" and not (...)`."""
    if "not" in node:
        return f"not ({expression_text(node['not'])})"
    if "all" in node or "any" in node:
        name = "all" if "all" in node else "any"
        parts = [expression_text(child) for child in node[name]]
        if len(parts) == 1:
            return parts[0]
        return "(" + (" and " if name == "all" else " or ").join(parts) + ")"
    field = node["field"]
    subject = {
        "tag": f"tag {node.get('key')}",
        "category": f"category {node.get('category')}",
        "ou": "OU",
        "charge_category": "charge category",
        "usage_type": "usage type",
    }.get(field, field)
    if node["op"] in ("present", "absent"):
        return f"{subject} is {'set' if node['op'] == 'present' else 'missing'}"
    values = ", ".join(f'"{value}"' for value in node.get("values", []))
    fold = "" if node.get("case_sensitive", True) else " (any case)"
    return f"{subject} {OPS[node['op']]} {values}{fold}"


def rule_text(rule: Rule) -> str:
    if rule.kind == RuleKind.INHERITED:
        source = "the account name" if rule.inherit_from == "account_name" else rule.inherit_from
        return f"value from {source}, where it is set"
    return expression_text(rule.expression or {"all": []}) if rule.expression else "every cost"


def split_text(split: SplitRule) -> str:
    if split.method == SplitMethod.FIXED:
        targets = ", ".join(f"{t['value']} {t['percent']}%" for t in split.targets)
    else:
        targets = ", ".join(t["value"] for t in split.targets)
    how = {"proportional": "in proportion to their own cost", "even": "evenly", "fixed": ""}
    return f"{targets} {how[split.method]}".strip()


def version_rows(version: RuleSet) -> dict[str, Any]:
    return {
        "version": version,
        "rules": [(rule, rule_text(rule)) for rule in version.rules.all()],
        "splits": [(split, split_text(split)) for split in version.splits.all()],
    }


def bill_currency(period: date) -> str:
    """The currency the period's bill is in; several joined with " / " (rare: mixed payers)."""
    return " / ".join(sorted(bill_currencies(period)))


class ReaderRequiredMixin(ScopedViewMixin):
    """Only the roles that may read allocation open these pages."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and user.role not in ALLOCATION_READERS:
            raise PermissionDenied("Your role may not see cost allocation.")
        return super().dispatch(request, *args, **kwargs)


class RunForm(forms.Form):
    period = forms.TypedChoiceField(
        coerce=date.fromisoformat, help_text="A billing period whose cost data is loaded."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        months = (
            LoadedPeriod.objects.order_by("-billing_period_start")
            .values_list("billing_period_start", flat=True)
            .distinct()
        )
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(m.isoformat(), f"{m:%Y-%m}") for m in months]


class CategoryListView(ReaderRequiredMixin, ListView[CostCategory]):
    model = CostCategory
    template_name = "allocation/category_list.html"

    def get_queryset(self) -> Any:
        versions = RuleSet.objects.prefetch_related("rules", "splits")
        return super().get_queryset().prefetch_related(Prefetch("versions", queryset=versions))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        month = date.today().replace(day=1)
        rows = []
        for category in context["object_list"]:
            # The version in force this month, as CostCategory.version_for picks it.
            in_force = [v for v in category.versions.all() if v.effective_month <= month]
            version = max(in_force, key=lambda v: (v.effective_month, v.number), default=None)
            rows.append({"category": category, **(version_rows(version) if version else {})})
        context["rows"] = rows
        context["can_write"] = may_write(self.request.user, ADMIN_ONLY)
        return context


class CategoryDetailView(ReaderRequiredMixin, DetailView[CostCategory]):
    model = CostCategory
    template_name = "allocation/category_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allocation_runs_fail_stopped()  # none is listed running whose process is gone
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        category = self.object
        versions = category.versions.prefetch_related("rules", "splits").select_related(
            "created_by"
        )
        context["versions"] = [version_rows(v) for v in versions]
        runs = AllocationRun.objects.filter(category=category).select_related("ruleset")
        context["runs"] = runs.order_by("-period", "-requested_at")[:24]
        latest = (
            runs.filter(status=RunStatus.SUCCEEDED).order_by("-period", "-requested_at").first()
        )
        context["latest"] = latest
        context["totals"] = run_totals(latest) if latest else []
        context["currency"] = bill_currency(latest.period) if latest else ""
        if may_write(self.request.user, ADMIN_ONLY):
            context["form"] = kwargs.get("form") or RunForm()
        return context


class RunCreateView(WriteRoleRequiredMixin, View):
    write_roles = ADMIN_ONLY

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        category = get_object_or_404(CostCategory.objects.visible_to(request.user), pk=pk)
        form = RunForm(request.POST)
        if form.is_valid():
            period = form.cleaned_data["period"]
            try:
                run = allocation_run_request(actor=request.user, category=category, period=period)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, f"The allocation of {category.name} for {period:%Y-%m} is queued."
                )
                return redirect("allocation-run", run.pk)
        else:
            messages.error(request, "Choose a billing period whose cost data is loaded.")
        return redirect("allocation-category", pk=category.pk)


class RunDetailView(ReaderRequiredMixin, DetailView[AllocationRun]):
    model = AllocationRun
    template_name = "allocation/run_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allocation_runs_fail_stopped()  # not shown running if its process is gone
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        categories = CostCategory.objects.visible_to(self.request.user)
        rows = AllocationRun.objects.filter(category__in=categories)
        return rows.select_related("category", "ruleset", "created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["totals"] = run_totals(self.object)
        context["currency"] = bill_currency(self.object.period)
        return context


class ExplainView(RunDetailView):
    """How one value's total came about; with `?line_item=<id>`, one line item's value."""

    template_name = "allocation/explain.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run, params = self.object, self.request.GET
        value = params.get("value") or run.category.fallback_value
        try:
            context["explanation"] = explain_value(run, value)
        except ApplicationError as exc:
            raise BadRequest(exc.message) from exc
        context["largest"] = largest_line_items(run, value)
        item = params.get("line_item", "").strip()
        if item:
            try:
                context["line_item"] = explain_line_item(run, id_param(item, "line_item"))
            except ApplicationError as exc:
                context["line_item_error"] = exc.message
        return context


class CategoryCreateView(FormServiceView):
    form_class = CategoryForm
    template_name = "allocation/category_form.html"
    success_url_name = "allocation-category"

    def perform(self, data: dict[str, Any]) -> Any:
        return cost_category_create(actor=self.request.user, **data)

    def redirect_after(self, result: Any) -> HttpResponse:
        return redirect(self.success_url_name, pk=result.pk)


class VersionCreateView(FormServiceView):
    """A new version of a category's rules, starting from the version in force."""

    model = CostCategory
    form_class = VersionForm
    template_name = "allocation/version_form.html"
    success_url_name = "allocation-category"

    def get_initial(self) -> dict[str, Any]:
        category = self.get_object()
        this_month = timezone.now().date().replace(day=1)
        current = category.version_for(this_month)
        # Start on a month that has costs, so Preview and a run have data to work on.
        latest_loaded = (
            LoadedPeriod.objects.order_by("-billing_period_start")
            .values_list("billing_period_start", flat=True)
            .first()
        )
        month = latest_loaded or this_month
        return version_initial(ruleset_data(current) if current else None, month)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # Suggestions for the rule builder's tag key and category inputs.
        context["rule_builder_names"] = {
            "tag_keys": list(TagKey.objects.visible_to(user).values_list("name", flat=True)),
            "categories": list(
                CostCategory.objects.visible_to(user)
                .exclude(pk=self.get_object().pk)
                .values_list("name", flat=True)
            ),
        }
        return context

    def form_valid(self, form: forms.Form) -> HttpResponse:
        if "preview" not in self.request.POST:
            return super().form_valid(form)
        data = form.cleaned_data
        try:
            preview = allocation_preview(
                actor=self.request.user,
                category=self.get_object(),
                period=data["preview_period"] or data["effective_month"],
                rules=data["rules"],
                splits=data["splits"],
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        return self.render_to_response(self.get_context_data(form=form, preview=preview))

    def perform(self, data: dict[str, Any]) -> Any:
        data = {k: v for k, v in data.items() if k != "preview_period"}
        return ruleset_create(actor=self.request.user, category=self.get_object(), **data)

    def redirect_after(self, result: Any) -> HttpResponse:
        return redirect(self.success_url_name, pk=self.get_object().pk)

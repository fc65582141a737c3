"""The budget pages: the list with each budget's status bar, one budget's period as a chart
with its thresholds and alerts, and the admin and finance forms."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.timezone import localdate
from django.views.generic import TemplateView

from insights.budgets import services
from insights.budgets.access import BUDGET_READERS, BUDGET_WRITERS
from insights.budgets.figures import (
    budget_figures,
    chart_data,
    daily_curve,
    describe,
    visible_budgets,
)
from insights.budgets.forms import (
    BudgetForm,
    FilterFormSet,
    ThresholdFormSet,
    budget_initial,
    filter_initial,
    threshold_initial,
)
from insights.models import Budget
from portal.core.errors import ApplicationError
from portal.core.permissions import may_write
from portal.core.views import WriteRoleRequiredMixin
from portal.users.roles import Role

READERS = BUDGET_READERS
WRITERS = BUDGET_WRITERS
THRESHOLD_FIELD = re.compile(r"^thresholds\[(\d+)\](?:\.(\w+))?$")


class BudgetReaderMixin(LoginRequiredMixin):
    """Only the roles that may read budgets open these pages; others get 403."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user: Any = request.user
        if user.is_authenticated and user.role not in READERS:
            raise PermissionDenied("Budgets are not shown to your role.")
        return super().dispatch(request, *args, **kwargs)


DAYS_SHOWN = (date(2000, 1, 1), date(2199, 12, 31))


def _day(request: HttpRequest) -> date:
    """`?day=YYYY-MM-DD` shows the period holding that day; default today."""
    raw = request.GET.get("day") or ""
    try:
        day = date.fromisoformat(raw) if raw else localdate()
    except ValueError:
        raise Http404("day must be a date as YYYY-MM-DD.") from None
    if not DAYS_SHOWN[0] <= day <= DAYS_SHOWN[1]:  # periods and their history stay dates
        raise Http404(f"day must be from {DAYS_SHOWN[0]} to {DAYS_SHOWN[1]}.")
    return day


class BudgetListView(BudgetReaderMixin, TemplateView):
    template_name = "insights/budgets/list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user: Any = self.request.user
        figures = budget_figures(visible_budgets(user), localdate())
        return {
            **super().get_context_data(**kwargs),
            "figures": figures,
            "can_write": may_write(user, WRITERS),
            "is_team_lead": user.role == Role.TEAM_LEAD,
        }


class BudgetDetailView(BudgetReaderMixin, TemplateView):
    template_name = "insights/budgets/detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        user: Any = self.request.user
        budget = get_object_or_404(visible_budgets(user), pk=self.kwargs["pk"])
        today = _day(self.request)
        figures = budget_figures([budget], today)[0]
        chart = None
        if figures.spend is not None:
            chart = chart_data(figures, daily_curve(budget, figures.spend, today))
        return {
            **super().get_context_data(**kwargs),
            "budget": budget,
            "about": describe(budget),
            "f": figures,
            "chart": chart,
            "can_write": may_write(user, WRITERS),
            "is_today": "day" not in self.request.GET,
        }


class BudgetFormView(WriteRoleRequiredMixin, TemplateView):
    """Create (no pk) or change a budget with its thresholds and filters, through the
    budget services; a refusal shows next to the field (or threshold row) it names."""

    template_name = "insights/budgets/form.html"
    write_roles: ClassVar[frozenset[str]] = WRITERS
    budget: Budget | None = None

    def forms(self, data: Any = None) -> tuple[BudgetForm, Any, Any]:
        """The form and its two row sets, bound to `data` or filled from the budget."""
        user = self.request.user
        if "pk" in self.kwargs and self.budget is None:
            self.budget = get_object_or_404(visible_budgets(user), pk=self.kwargs["pk"])
        if data is not None:
            return (
                BudgetForm(data, user=user),
                ThresholdFormSet(data, prefix="thresholds"),
                FilterFormSet(data, prefix="filters"),
            )
        initial = budget_initial(self.budget) if self.budget else None
        return (
            BudgetForm(initial=initial, user=user),
            ThresholdFormSet(initial=threshold_initial(self.budget), prefix="thresholds"),
            FilterFormSet(initial=filter_initial(self.budget), prefix="filters"),
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render(*self.forms())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, thresholds, filters = self.forms(request.POST)
        if not all([form.is_valid(), thresholds.is_valid(), filters.is_valid()]):
            return self.render(form, thresholds, filters)
        rows = thresholds.rows()
        try:
            fields = {**form.budget_fields(), "filters": filters.filters()}
            spec = [row for _, row in rows]
            if self.budget is None:
                saved = services.budget_create(actor=request.user, thresholds=spec, **fields)
            else:
                saved = services.budget_update(
                    actor=request.user, budget=self.budget, thresholds=spec, **fields
                )
        except ApplicationError as refused:
            _show(refused, form, thresholds, filters, [index for index, _ in rows])
            return self.render(form, thresholds, filters)
        messages.success(request, f"Saved the budget {saved.name}.")
        return redirect("budget-detail", pk=saved.pk)

    def render(self, form: BudgetForm, thresholds: Any, filters: Any) -> HttpResponse:
        context = self.get_context_data(
            form=form, thresholds=thresholds, filters=filters, budget=self.budget
        )
        return self.render_to_response(context)


def _show(
    refused: ApplicationError, form: BudgetForm, thresholds: Any, filters: Any, rows: list[int]
) -> None:
    """The refusal next to what it names: a field, a threshold row, or the filters."""
    field = refused.field or ""
    message = refused.message.removeprefix(f"{field}: ")
    match = THRESHOLD_FIELD.match(field)
    if match and int(match[1]) < len(rows):
        row = thresholds.forms[rows[int(match[1])]]
        row.add_error(match[2] if match[2] in row.fields else None, message)
    elif field == "filters":
        filters.non_form_errors().append(message)
    elif field in form.fields:
        form.add_error(field, message)
    else:
        form.add_error(None, refused.message)


class BudgetDeleteView(WriteRoleRequiredMixin, TemplateView):
    """A confirmation page; only its POST deletes."""

    template_name = "insights/budgets/confirm_delete.html"
    write_roles: ClassVar[frozenset[str]] = WRITERS

    def budget(self) -> Budget:
        return get_object_or_404(visible_budgets(self.request.user), pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        budget = self.budget()
        return {
            **super().get_context_data(**kwargs),
            "budget": budget,
            "about": describe(budget),
            "alert_count": sum(t.alerts.count() for t in budget.thresholds.all()),
        }

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        budget = self.budget()
        name = budget.name
        services.budget_delete(actor=request.user, budget=budget)
        messages.success(request, f"Deleted the budget {name}.")
        return redirect(reverse("budget-list"))

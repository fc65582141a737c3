"""The reconciliation page: a period's bill against its invoices."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.views.generic import TemplateView

from invoices import selectors
from invoices.forms import ReconciliationForm
from invoices.models import BillingUnit
from invoices.reconcile import reconcile
from invoices.views.common import ReadersMixin


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

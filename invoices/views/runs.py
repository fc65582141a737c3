"""Pages of invoice runs: start one for a period, watch its progress and notes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.generic import DetailView, ListView, View

from invoices import selectors
from invoices.apis import INVOICE_WRITERS
from invoices.forms import RunForm
from invoices.models import InvoiceRun, InvoiceRunStatus
from invoices.services.runs import invoice_run_request, invoice_runs_fail_stopped
from invoices.views.common import ReadersMixin
from portal.core.errors import ApplicationError
from portal.core.views import WriteRoleRequiredMixin


class RunListView(ReadersMixin, ListView[InvoiceRun]):
    model = InvoiceRun
    write_roles = INVOICE_WRITERS
    template_name = "invoices/run_list.html"
    paginate_by = 25

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        invoice_runs_fail_stopped()  # none is listed running whose process is gone
        return super().get(request, *args, **kwargs)

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

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        invoice_runs_fail_stopped()  # not shown running if its process is gone
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[InvoiceRun]:
        return super().get_queryset().select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = self.object
        context["running"] = run.status in (InvoiceRunStatus.QUEUED, InvoiceRunStatus.RUNNING)
        context["invoices"] = selectors.invoices_for(self.request.user).filter(run=run)
        return context

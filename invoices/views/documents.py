"""Pages of invoices and credit notes: the list by period, one document, its actions."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import DetailView, ListView, View

from invoices import selectors
from invoices.apis import INVOICE_WRITERS
from invoices.forms import CreditNoteForm, InvoiceFilterForm, PayForm, VoidForm
from invoices.models import DocumentKind, Invoice
from invoices.models.documents import DOCUMENT_READERS
from invoices.services.corrections import credit_note_issue, invoice_mark_paid, invoice_void
from invoices.services.issuing import invoice_issue
from invoices.views.common import ReadersMixin, form_errors
from portal.core.errors import ApplicationError
from portal.core.views import WriteRoleRequiredMixin


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
        rows = selectors.invoice_with_lines(selectors.invoices_for(self.request.user))
        return rows.select_related("allocation_run__ruleset")

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


class InvoiceActionView(WriteRoleRequiredMixin, View):
    """One POST that moves a document on: issue, void, pay or credit-note.

    Issuing and voiding cannot be undone, so a POST without `confirm=yes` only shows
    what will happen, with a button that posts the same data again confirmed.
    """

    write_roles = INVOICE_WRITERS
    action: ClassVar[str] = ""
    CONFIRMED: ClassVar[frozenset[str]] = frozenset({"issue", "void"})
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
        if self.action in self.CONFIRMED and request.POST.get("confirm") != "yes":
            return self.confirmation(invoice, data)
        try:
            result = self.perform(invoice, data)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invoice-detail", pk=invoice.pk)
        messages.success(request, self.done(result))
        return redirect("invoice-detail", pk=result.pk)

    def confirmation(self, invoice: Invoice, data: dict[str, Any]) -> HttpResponse:
        context = {
            "object": invoice,
            "action": self.action,
            "reason": data.get("reason", ""),
        }
        return render(self.request, "invoices/confirm_action.html", context)

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

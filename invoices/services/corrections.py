"""After issuing: credit notes, voiding and payment. Issued documents never change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from invoices.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus, LineKind
from invoices.money import round_money
from invoices.services.issuing import invoice_issue
from invoices.services.totals import invoice_totals
from portal.audit.services import audit_record, snapshot
from portal.core.errors import ApplicationError
from portal.core.fields import checked_decimal

CREDITABLE = (InvoiceStatus.ISSUED, InvoiceStatus.PAID)


def _locked_invoice(invoice: Invoice) -> Invoice:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.kind != DocumentKind.INVOICE:
        raise ApplicationError(f"{invoice} is not an invoice.", code="not_an_invoice")
    return invoice


def credited_total(invoice: Invoice) -> Decimal:
    credited = invoice.credit_notes.exclude(status=InvoiceStatus.VOID).aggregate(t=Sum("total"))
    return credited["t"] or Decimal(0)


@transaction.atomic
def credit_note_issue(
    *,
    actor: Any,
    invoice: Invoice,
    reason: str,
    amount: Decimal | None = None,
    issue_date: date | None = None,
) -> Invoice:
    """Credit `amount` (before tax) of an issued invoice, or all of it when None.

    A full credit repeats the invoice's lines; a partial one is one line at the
    invoice's tax rate. Credits of one invoice never exceed its total.
    """
    invoice = _locked_invoice(invoice)
    if invoice.status not in CREDITABLE:
        raise ApplicationError(
            f"{invoice} is {invoice.get_status_display().lower()}: only issued or paid "
            "invoices can be credited.",
            code="not_creditable",
        )
    if not reason.strip():
        raise ApplicationError("Say why the credit note is issued.", code="reason", field="reason")
    note = Invoice(
        kind=DocumentKind.CREDIT_NOTE,
        unit=invoice.unit,
        original=invoice,
        allocation_run=invoice.allocation_run,
        period=invoice.period,
        currency=invoice.currency,
        cost_basis=invoice.cost_basis,
        plan_name=invoice.plan_name,
        buyer_name=invoice.buyer_name,
        buyer_address=invoice.buyer_address,
        buyer_tax_id=invoice.buyer_tax_id,
        reason=reason.strip(),
    )
    note.save()
    lines = _credit_lines(note, invoice, amount)
    InvoiceLine.objects.bulk_create(lines)
    invoice_totals(note, lines)
    available = invoice.total - credited_total(invoice)
    if note.total > available:
        raise ApplicationError(
            f"A credit note of {note.total} {note.currency} (tax included) is larger than "
            f"what is left to credit on {invoice.number}: {available} {invoice.currency}.",
            code="credit_too_large",
            field="amount",
        )
    note.save()
    return invoice_issue(actor=actor, invoice=note, issue_date=issue_date)


def _credit_lines(note: Invoice, invoice: Invoice, amount: Decimal | None) -> list[InvoiceLine]:
    if amount is None:
        return [
            InvoiceLine(
                invoice=note,
                position=line.position,
                kind=line.kind,
                service_name=line.service_name,
                usage_type=line.usage_type,
                description=line.description,
                split_from=line.split_from,
                quantity=line.quantity,
                pricing_unit=line.pricing_unit,
                amount=line.amount,
                tax_rate=line.tax_rate,
            )
            for line in invoice.lines.all()
        ]
    try:
        amount = checked_decimal(amount, max_digits=18, decimal_places=4)
    except ValueError as exc:
        raise ApplicationError(f"Amount: {exc}", code="invalid_number", field="amount") from None
    rounded = round_money(amount, invoice.currency)
    if rounded <= 0:
        raise ApplicationError(
            "A credit note's amount must be positive.", code="credit_amount", field="amount"
        )
    rates = {line.tax_rate for line in invoice.lines.all()}
    return [
        InvoiceLine(
            invoice=note,
            position=1,
            kind=LineKind.CORRECTION,
            description=f"Correction of invoice {invoice.number}",
            amount=rounded,
            tax_rate=max(rates) if rates else invoice.unit.tax_rate,
        )
    ]


@transaction.atomic
def invoice_void(*, actor: Any, invoice: Invoice, reason: str) -> Invoice:
    """Void an issued, unpaid invoice; it keeps its number."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError(
            f"{invoice} is {invoice.get_status_display().lower()}: only issued, unpaid "
            "documents can be voided; correct a paid invoice with a credit note.",
            code="not_voidable",
        )
    if invoice.credit_notes.exclude(status=InvoiceStatus.VOID).exists():
        raise ApplicationError(
            f"{invoice} has credit notes; void them first.", code="has_credit_notes"
        )
    if not reason.strip():
        raise ApplicationError("Say why it is voided.", code="reason", field="reason")
    before = snapshot(invoice)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = timezone.now()
    invoice.void_reason = reason.strip()
    invoice.save(update_fields=["status", "voided_at", "void_reason"])
    audit_record(
        actor=actor,
        action=f"{invoice.kind}.void",
        instance=invoice,
        before=before,
        after=snapshot(invoice),
    )
    return invoice


@transaction.atomic
def invoice_mark_paid(
    *, actor: Any, invoice: Invoice, paid_on: date | None = None, reference: str = ""
) -> Invoice:
    invoice = _locked_invoice(invoice)
    if invoice.status != InvoiceStatus.ISSUED:
        raise ApplicationError(
            f"{invoice} is {invoice.get_status_display().lower()}: only issued invoices can "
            "be marked paid.",
            code="not_payable",
        )
    before = snapshot(invoice)
    paid = paid_on or timezone.localdate()
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = timezone.make_aware(datetime(paid.year, paid.month, paid.day))
    invoice.payment_reference = reference.strip()
    invoice.save(update_fields=["status", "paid_at", "payment_reference"])
    audit_record(
        actor=actor,
        action="invoice.pay",
        instance=invoice,
        before=before,
        after=snapshot(invoice),
    )
    return invoice

"""Issuing: a draft gets its number, its parties and dates are fixed, its PDF is stored.

All in one transaction that holds the document's row and its sequence's row: if
anything fails (the PDF included), the number is not used and the draft stays a draft.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone

from invoices.models import DocumentKind, Invoice, InvoiceStatus, SellerProfile
from invoices.numbering import next_number
from invoices.rendering.pdf import document_pdf
from portal.audit.services import acting_user, audit_record
from portal.core.errors import ApplicationError


def seller_profile() -> SellerProfile:
    seller = SellerProfile.objects.first()
    if seller is None or not seller.legal_name:
        raise ApplicationError(
            "Set the seller's legal name, address and tax id (invoice settings) before issuing.",
            code="no_seller_profile",
        )
    return seller


@transaction.atomic
def invoice_issue(*, actor: Any, invoice: Invoice, issue_date: date | None = None) -> Invoice:
    """Number, freeze and render a draft invoice or credit note."""
    invoice = Invoice.objects.select_for_update().select_related("unit").get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise ApplicationError(
            f"{invoice} is {invoice.get_status_display().lower()} already; issued documents "
            "cannot be issued again or changed.",
            code="not_a_draft",
        )
    if not invoice.lines.exists():
        raise ApplicationError(
            f"{invoice} has no lines: there is nothing to invoice for {invoice.period:%Y-%m}.",
            code="no_lines",
        )
    if invoice.total < 0:
        raise ApplicationError(
            f"{invoice} totals {invoice.total} {invoice.currency}: an invoice cannot be "
            "negative; lower its plan's credits or issue a credit note instead.",
            code="negative_total",
        )
    seller = seller_profile()
    issued_on = issue_date or timezone.localdate()
    invoice.number = next_number(kind=invoice.kind, year=issued_on.year, seller=seller)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issue_date = issued_on
    if invoice.kind == DocumentKind.INVOICE:
        invoice.due_date = issued_on + timedelta(days=invoice.unit.payment_terms_days)
    invoice.seller_name = seller.legal_name
    invoice.seller_address = seller.address
    invoice.seller_tax_id = seller.tax_id
    invoice.payment_details = seller.payment_details
    invoice.issued_at = timezone.now()
    invoice.issued_by = acting_user(actor)
    invoice.full_clean()
    _store_pdf(invoice)
    invoice.save()
    audit_record(
        actor=actor,
        action=f"{invoice.kind}.issue",
        instance=invoice,
        after={"number": invoice.number, "total": str(invoice.total), "sha256": invoice.pdf_sha256},
    )
    return invoice


def _store_pdf(invoice: Invoice) -> None:
    pdf = document_pdf(invoice)
    invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    name = f"{connection.schema_name}/{invoice.period:%Y-%m}/{invoice.number}.pdf"  # type: ignore[attr-defined]
    invoice.pdf.save(name, ContentFile(pdf), save=False)

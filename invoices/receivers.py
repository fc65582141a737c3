"""Invoices follow the payers of record: when a billing transfer changes who pays a month,
the month's open drafts are drafted again (an invoice run without issuing); issued
invoices never change."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from billing.signals import payers_of_record_changed
from invoices.models import DocumentKind, Invoice, InvoiceStatus
from invoices.services.runs import invoice_run_request


@receiver(payers_of_record_changed, dispatch_uid="invoices.redraft_open_drafts")
def redraft_open_drafts(sender: Any, months: list[Any], **kwargs: Any) -> None:
    drafted = Invoice.objects.filter(
        period__in=months, kind=DocumentKind.INVOICE, status=InvoiceStatus.DRAFT
    )
    for month in sorted(set(drafted.values_list("period", flat=True))):
        invoice_run_request(actor=None, period=month, issue=False, actor_name="billing transfer")

"""An invoice's totals from its lines: sums of rounded amounts, tax per rate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from invoices.models import Invoice, InvoiceLine
from invoices.money import taxes


def invoice_totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """Set the invoice's subtotal, taxes, total and wholesale total (not saved)."""
    tax_lines = taxes(((line.amount, line.tax_rate) for line in lines), invoice.currency)
    invoice.subtotal = sum((line.amount for line in lines), Decimal(0))
    invoice.taxes = [tax.as_json() for tax in tax_lines]
    invoice.tax_total = sum((tax.tax for tax in tax_lines), Decimal(0))
    invoice.total = invoice.subtotal + invoice.tax_total
    invoice.wholesale_total = sum((line.wholesale_amount for line in lines), Decimal(0))

"""What an invoice shows, arranged for its PDF and CSV: lines grouped by service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from invoices.models import DocumentKind, Invoice, InvoiceLine, LineKind, SellerProfile

CHARGE_KINDS = (LineKind.FEE, LineKind.CREDIT, LineKind.CORRECTION)


@dataclass
class ServiceGroup:
    name: str
    lines: list[InvoiceLine] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def service_groups(lines: list[InvoiceLine]) -> list[ServiceGroup]:
    """Cost lines by service (in line order), each group with its subtotal."""
    groups: dict[str, ServiceGroup] = {}
    for line in lines:
        if line.kind in CHARGE_KINDS:
            continue
        name = line.service_name or "Other charges"
        groups.setdefault(name, ServiceGroup(name)).lines.append(line)
    return list(groups.values())


def quantity_text(quantity: Decimal | None) -> str:
    if quantity is None:
        return ""
    rounded = quantity.quantize(Decimal("0.0001")).normalize()
    return f"{rounded:,f}"


def period_end(period: date) -> date:
    return date(period.year + period.month // 12, period.month % 12 + 1, 1) - timedelta(days=1)


def _seller(invoice: Invoice) -> dict[str, str]:
    """The issuer as frozen on an issued document; as the profile says now on a draft."""
    if not invoice.is_draft:
        return {
            "name": invoice.seller_name,
            "address": invoice.seller_address,
            "tax_id": invoice.seller_tax_id,
            "payment_details": invoice.payment_details,
        }
    profile = SellerProfile.objects.first() or SellerProfile(legal_name="")
    return {
        "name": profile.legal_name,
        "address": profile.address,
        "tax_id": profile.tax_id,
        "payment_details": profile.payment_details,
    }


def charges_heading(charges: list[InvoiceLine]) -> str:
    """The heading of the charge lines: fees and credits, or a credit note's corrections."""
    kinds = {line.kind for line in charges}
    if kinds == {LineKind.CORRECTION}:
        return "Corrections"
    if LineKind.CORRECTION in kinds:
        return "Fees, credits and corrections"
    return "Fees and credits"


def document_context(invoice: Invoice, **extra: Any) -> dict[str, Any]:
    """The template's context; a draft shows the seller profile as it is now.

    No wholesale cost, margin, plan or pricing rule: the document goes to the buyer.
    """
    lines = list(invoice.lines.all())
    charges = [line for line in lines if line.kind in CHARGE_KINDS]
    several_rates = len({line.tax_rate for line in lines}) > 1
    is_credit_note = invoice.kind == DocumentKind.CREDIT_NOTE
    terms = None
    if invoice.issue_date and invoice.due_date:
        terms = (invoice.due_date - invoice.issue_date).days
    return {
        "invoice": invoice,
        "kind_label": invoice.get_kind_display(),
        "original": invoice.original if is_credit_note else None,
        "seller": _seller(invoice),
        "period_end": period_end(invoice.period),
        "terms_days": terms,
        "groups": service_groups(lines),
        "charges": charges,
        "charges_heading": charges_heading(charges),
        "charges_amount": sum((line.amount for line in charges), Decimal(0)),
        "several_rates": several_rates,
        "label_span": 4 if several_rates else 3,
        "taxes": invoice.taxes,
        "is_credit_note": is_credit_note,
        **extra,
    }

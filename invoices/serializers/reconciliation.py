"""The reconciliation as JSON: every figure exact decimal text."""

from __future__ import annotations

from typing import Any

from invoices.reconcile import Amounts, CategoryReconciliation, Reconciliation
from invoices.serializers.documents import money


def amounts_data(amounts: Amounts) -> dict[str, str]:
    return {column: str(value) for column, value in amounts.items()}


def category_data(part: CategoryReconciliation) -> dict[str, Any]:
    return {
        "category": part.category.pk,
        "category_name": part.category.name,
        "unallocated_value": part.category.fallback_value,
        "allocation_run": part.run.pk if part.run else None,
        "balanced": part.balanced,
        "ingested": amounts_data(part.ingested),
        "invoiced_issued": amounts_data(part.issued),
        "invoiced_drafts": amounts_data(part.drafts),
        "unallocated": amounts_data(part.unallocated),
        "unbilled": amounts_data(part.unbilled),
        "difference": amounts_data(part.difference),
        "invoices": [
            {
                "unit": item.unit.pk,
                "unit_name": item.unit.name,
                "invoice": item.invoice.pk,
                "number": item.invoice.number,
                "status": item.invoice.status,
                "allocation_run": item.invoice.allocation_run_id,
                "stale": item.stale,
                **amounts_data(item.amounts),
            }
            for item in part.invoiced
        ],
        "unbilled_values": [
            {"value": item.value, **amounts_data(item.amounts)} for item in part.unbilled_values
        ],
        "unbilled_units": [
            {
                "unit": item.unit.pk,
                "unit_name": item.unit.name,
                "reason": item.reason,
                **amounts_data(item.amounts),
            }
            for item in part.unbilled_units
        ],
        "credit_notes": [
            {
                "id": note.pk,
                "number": note.number,
                "status": note.status,
                "unit_name": note.unit.name,
                "original_number": note.original.number if note.original else None,
                "currency": note.currency,
                "subtotal": money(note.subtotal, note.currency),
                "total": money(note.total, note.currency),
                "reason": note.reason,
            }
            for note in part.credit_notes
        ],
        "notes": part.notes,
    }


def reconciliation_data(result: Reconciliation) -> dict[str, Any]:
    return {
        "period": f"{result.period:%Y-%m}",
        "balanced": result.balanced,
        "ingested": amounts_data(result.ingested),
        "categories": [category_data(part) for part in result.categories],
        "payers_of_record": [
            {
                "payer": payer.payer,
                "name": payer.name,
                "transferred_from": payer.transferred_from,
                **amounts_data(payer.amounts),
                "organizations": [
                    {
                        "name": org.name,
                        "bills": org.bills,
                        "accounts": org.accounts,
                        **amounts_data(org.amounts),
                    }
                    for org in payer.organizations
                ],
            }
            for payer in result.payers
        ],
        "notes": result.notes,
    }

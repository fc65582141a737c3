"""Issuing under concurrency: every number is taken once, in order, with no gap.

The issues run in threads, each on its own database connection, against a tenant whose
drafts are committed (a schema of its own, dropped after the module).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django_tenants.utils import schema_context

from allocation.services import cost_category_create
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, NumberSequence
from invoices.services.issuing import invoice_issue
from portal.core.errors import ApplicationError
from tests.committed import committed_tenant
from tests.invoices.world import JAN, plan, seller

SCHEMA = "numbering_t"
DRAFTS = 12


@pytest.fixture(scope="module")
def drafts(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[int]]:
    """Committed drafts of one line each in a tenant of their own."""
    with committed_tenant(django_db_blocker, SCHEMA):
        yield _committed_drafts()


def _committed_drafts() -> list[int]:
    from invoices.models import BillingUnit

    seller()
    category = cost_category_create(actor=None, name="End customer")
    unit = BillingUnit.objects.create(
        name="Globex",
        category=category,
        value="Globex",
        legal_name="Globex Inc.",
        plan=plan(),
    )
    ids = []
    for index in range(DRAFTS):
        invoice = Invoice.objects.create(
            unit=unit, period=JAN, currency="USD", cost_basis="billed_cost", buyer_name="Globex"
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            position=1,
            kind="fee",
            description=f"Fee {index}",
            amount=Decimal("10.00"),
            tax_rate=Decimal("0"),
        )
        invoice.subtotal = invoice.total = Decimal("10.00")
        invoice.save()
        ids.append(invoice.pk)
    return ids


def _issue_in_threads(ids: list[int]) -> tuple[list[str], list[str]]:
    numbers: list[str] = []
    refusals: list[str] = []
    start = threading.Barrier(len(ids))

    def issue(pk: int) -> None:
        try:
            connection.set_schema(SCHEMA)  # type: ignore[attr-defined]
            start.wait()
            try:
                issued = invoice_issue(actor=None, invoice=Invoice.objects.get(pk=pk))
                numbers.append(issued.number or "")
            except ApplicationError as refused:
                refusals.append(refused.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return numbers, refusals


def test_concurrent_issues_share_no_number_and_skip_none(drafts: list[int], db: Any) -> None:
    first, again = drafts[:8], [drafts[8]] * 4

    numbers, refusals = _issue_in_threads(first)
    repeated_numbers, repeated_refusals = _issue_in_threads(again)

    year = numbers[0].split("-")[1]
    assert sorted(numbers) == [f"INV-{year}-{n:06d}" for n in range(1, 9)]
    assert refusals == []
    # Four clerks issuing the same draft at once: one gets a number, three are refused.
    assert repeated_numbers == [f"INV-{year}-000009"]
    assert sorted(repeated_refusals) == ["not_a_draft"] * 3
    with schema_context(SCHEMA):
        assert NumberSequence.objects.get(kind="invoice").last_number == 9
        assert Invoice.objects.filter(status=InvoiceStatus.ISSUED).count() == 9


def test_a_failed_issue_gives_its_number_back(drafts: list[int], db: Any, monkeypatch: Any) -> None:
    from invoices.services import issuing

    def broken_renderer(invoice: Invoice) -> bytes:
        raise RuntimeError("renderer crashed")

    with schema_context(SCHEMA):
        taken = NumberSequence.objects.filter(kind="invoice").values_list("last_number", flat=True)
        before = taken.first() or 0
        monkeypatch.setattr(issuing, "document_pdf", broken_renderer)
        with pytest.raises(RuntimeError):
            invoice_issue(actor=None, invoice=Invoice.objects.get(pk=drafts[9]))
        monkeypatch.undo()
        assert Invoice.objects.get(pk=drafts[9]).status == InvoiceStatus.DRAFT
        issued = invoice_issue(actor=None, invoice=Invoice.objects.get(pk=drafts[10]))

        assert issued.number is not None
        assert issued.number.endswith(f"{before + 1:06d}")

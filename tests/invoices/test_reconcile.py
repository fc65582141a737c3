"""Reconciliation: the ingested bill against invoices, the unallocated and the unbilled."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from allocation.models import CostCategory
from allocation.services import ruleset_create
from invoices.models import Invoice, InvoiceRun
from invoices.reconcile import Amounts, CategoryReconciliation, reconcile
from invoices.services.corrections import credit_note_issue, invoice_void
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from invoices.services.runs import invoice_run_execute
from tests.allocation.run_helpers import category_with, cond, regular, run
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import JAN, allocate, month_rows, plan, seller, unit, usage

D = Decimal
CUSTOMERS = [
    regular("Globex", cond("tag", "equals", "globex", key="customer")),
    regular("Initech", cond("tag", "equals", "initech", key="customer")),
    regular("Hooli", cond("tag", "equals", "hooli", key="customer")),
]
# The world's month plus Hooli, whose cost columns differ.
HOOLI = usage(
    "hooli", "Amazon EC2", "BoxUsage:t3.small", "4.5", "100", effective="4", list_cost="6"
)
GLOBEX = Amounts(D("163.343"), D("163.343"), D("163.343"))
INITECH = Amounts(D("57.770"), D("57.770"), D("57.770"))
SUPPORT = Amounts(D("12.34"), D("12.34"), D("12.34"))
HOOLI_COST = Amounts(D("4.5"), D("4"), D("6"))
INGESTED = GLOBEX + INITECH + SUPPORT + HOOLI_COST


def issue_date() -> date:
    return date(2026, 2, 2)


@pytest.fixture
def month(files: FakeFiles) -> CostCategory:
    """January allocated; Globex and Initech have units, Hooli has none."""
    category = category_with("End customer", CUSTOMERS)
    allocate(files, [*month_rows(), HOOLI])
    seller()
    standard = plan(everything="10")
    unit("Globex", standard)
    unit("Initech", standard)
    return category


def only(period: date = JAN) -> CategoryReconciliation:
    result = reconcile(period)
    assert len(result.categories) == 1
    return result.categories[0]


def test_every_cent_is_invoiced_unallocated_or_unbilled(month: CostCategory) -> None:
    invoice_drafts_create(period=JAN)
    globex = Invoice.objects.get(unit__value="Globex")
    invoice_issue(actor=None, invoice=globex, issue_date=issue_date())

    part = only()

    assert part.ingested == INGESTED
    assert part.issued == GLOBEX
    assert part.drafts == INITECH
    assert part.unallocated == SUPPORT
    assert [(v.value, v.amounts) for v in part.unbilled_values] == [("Hooli", HOOLI_COST)]
    assert part.unbilled_units == []
    assert part.difference == Amounts()
    assert part.balanced and reconcile(JAN).balanced
    assert part.notes == []
    assert [label for label, _ in part.rows] == [
        "Ingested",
        "Invoiced, issued",
        "Invoiced, drafts",
        "Unallocated (Unallocated)",
        "Unbilled",
        "Difference",
    ]


def test_a_unit_without_an_invoice_is_unbilled_with_the_reason(month: CostCategory) -> None:
    unit("Hooli", None)
    invoice_run = invoice_run_execute(actor=None, run=InvoiceRun.objects.create(period=JAN))

    part = only()

    assert [(u.unit.value, u.amounts) for u in part.unbilled_units] == [("Hooli", HOOLI_COST)]
    assert part.unbilled_units[0].reason.startswith(f"invoice run {invoice_run.pk} (")
    assert part.unbilled_units[0].reason.endswith("has no pricing plan; set one to invoice it.")
    assert part.unbilled == HOOLI_COST
    assert part.unbilled_values == []
    assert part.balanced


def test_a_voided_invoice_no_longer_counts(month: CostCategory) -> None:
    invoice_drafts_create(period=JAN)
    initech = Invoice.objects.get(unit__value="Initech")
    invoice_issue(actor=None, invoice=initech, issue_date=issue_date())
    invoice_void(actor=None, invoice=initech, reason="Wrong address")

    part = only()

    assert part.issued + part.drafts == GLOBEX
    assert [(u.unit.value, u.amounts) for u in part.unbilled_units] == [("Initech", INITECH)]
    assert "voided" in part.unbilled_units[0].reason
    assert part.balanced


def test_a_new_allocation_after_invoicing_shows_as_a_difference(month: CostCategory) -> None:
    invoice_drafts_create(period=JAN)
    globex = invoice_issue(
        actor=None, invoice=Invoice.objects.get(unit__value="Globex"), issue_date=issue_date()
    )
    # Initech's tag rule is dropped: its cost now falls to Unallocated.
    ruleset_create(
        actor=None, category=month, effective_month=JAN, rules=[CUSTOMERS[0], CUSTOMERS[2]]
    )
    latest = run(month)

    part = only()

    assert part.run == latest
    assert part.unallocated == SUPPORT + INITECH
    assert part.drafts == INITECH  # the draft still has Initech's old cost
    assert part.difference == Amounts() - INITECH
    assert not part.balanced and not reconcile(JAN).balanced
    assert any("Initech Inc.: the draft" in note and "run the invoices again" in note
               for note in part.notes)  # fmt: skip
    assert any(f"Globex Inc.: {globex.number}" in n and "credit note" in n for n in part.notes), (
        part.notes
    )

    invoice_drafts_create(period=JAN)  # re-drafting drops Initech's draft: nothing allocated
    assert only().balanced


def test_credit_notes_are_listed_apart_and_leave_the_wholesale(month: CostCategory) -> None:
    invoice_drafts_create(period=JAN)
    globex = invoice_issue(
        actor=None, invoice=Invoice.objects.get(unit__value="Globex"), issue_date=issue_date()
    )
    note = credit_note_issue(actor=None, invoice=globex, amount=D("10"), reason="Outage")

    part = only()

    assert part.credit_notes == [note]
    assert part.credited == D("11.90")  # 10 plus 19 % tax
    assert part.issued == GLOBEX
    assert part.balanced


def test_a_period_without_allocation_says_so(month: CostCategory) -> None:
    part = only(date(2026, 2, 1))

    assert part.run is None
    assert part.ingested == Amounts()
    assert part.balanced
    assert "has no allocation for 2026-02" in part.notes[0]
    assert not reconcile(date(2026, 2, 1)).has_data

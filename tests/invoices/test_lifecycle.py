"""After issuing: frozen in code and in the database, credit notes, void and paid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from invoices.models import Invoice, InvoiceLine, InvoiceStatus
from invoices.services.corrections import credit_note_issue, invoice_mark_paid, invoice_void
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.models import AuditEntry
from portal.core.errors import ApplicationError
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.pdf_text import stored_pdf_text
from tests.invoices.world import JAN, allocate, plan, seller, unit

D = Decimal


@pytest.fixture
def issued(files: FakeFiles) -> Invoice:
    """Initech's January invoice, issued: 57.78 + 19 % tax = 68.76."""
    allocate(files)
    seller()
    unit("Initech", plan(everything="0"))
    invoice_drafts_create(period=JAN)
    draft = Invoice.objects.get(unit__value="Initech")
    return invoice_issue(actor=None, invoice=draft)


def raw(statement: str, *params: Any) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_issuing_numbers_dates_and_stores_the_pdf(issued: Invoice) -> None:
    assert issued.status == InvoiceStatus.ISSUED
    assert issued.number == f"INV-{issued.issue_date:%Y}-000001"
    assert issued.due_date and issued.issue_date
    assert (issued.due_date - issued.issue_date).days == 30
    assert issued.seller_name == "Cloudreseller GmbH"
    assert issued.total == D("68.76")
    text = stored_pdf_text(issued)
    assert issued.number in text
    assert "Initech Incorporated" in text
    assert "68.76" in text
    assert AuditEntry.objects.filter(action="invoice.issue", object_id=str(issued.pk)).exists()


def test_an_issued_invoice_cannot_be_issued_or_redrafted(issued: Invoice) -> None:
    with pytest.raises(ApplicationError, match="issued already"):
        invoice_issue(actor=None, invoice=issued)
    invoice_drafts_create(period=JAN)
    assert Invoice.objects.get(pk=issued.pk).total == issued.total


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoices_invoice SET total = total + 1 WHERE id = %s",
        "UPDATE invoices_invoice SET buyer_name = 'Someone else' WHERE id = %s",
        "UPDATE invoices_invoice SET number = 'INV-X' WHERE id = %s",
        "UPDATE invoices_invoice SET status = 'draft' WHERE id = %s",
        "DELETE FROM invoices_invoice WHERE id = %s",
        "UPDATE invoices_invoiceline SET amount = 0 WHERE invoice_id = %s",
        "DELETE FROM invoices_invoiceline WHERE invoice_id = %s",
        "INSERT INTO invoices_invoiceline (invoice_id, position, kind, service_name, usage_type,"
        " description, split_from, pricing_unit, wholesale_amount, billed_cost, effective_cost,"
        " list_cost, price_rule, amount, tax_rate) VALUES (%s, 99, 'fee', '', '', 'x', '', '',"
        " 0, 0, 0, 0, '', 1, 0)",
    ],
)
def test_the_database_refuses_to_change_an_issued_invoice(issued: Invoice, statement: str) -> None:
    with pytest.raises(IntegrityError, match="issued"):
        raw(statement, issued.pk)


def test_the_pdf_is_stored_once(issued: Invoice) -> None:
    with pytest.raises(IntegrityError, match="cannot be replaced"):
        raw("UPDATE invoices_invoice SET pdf = 'other.pdf' WHERE id = %s", issued.pk)


def test_credit_notes_have_their_own_sequence_and_never_exceed_the_invoice(
    issued: Invoice,
) -> None:
    first = credit_note_issue(actor=None, invoice=issued, amount=D("10.004"), reason="Downtime")

    assert first.number == f"CN-{first.issue_date:%Y}-000001"
    assert first.original == issued
    assert [(line.amount, line.tax_rate) for line in first.lines.all()] == [
        (D("10.00"), D("19.0000"))
    ]
    assert first.total == D("11.90")
    text = stored_pdf_text(first)
    assert str(issued.number) in text and "Downtime" in text
    with pytest.raises(ApplicationError, match="larger than what is left to credit") as refused:
        credit_note_issue(actor=None, invoice=issued, reason="Everything")
    assert refused.value.code == "credit_too_large"
    assert "56.86" in refused.value.message  # 68.76 - 11.90 is left
    second = credit_note_issue(actor=None, invoice=issued, amount=D("47.78"), reason="Rest")
    assert second.total == D("56.86")
    assert second.number == f"CN-{second.issue_date:%Y}-000002"


def test_full_credit_repeats_the_lines(issued: Invoice) -> None:
    note = credit_note_issue(actor=None, invoice=issued, reason="Billed twice")

    assert note.total == issued.total
    assert [line.amount for line in note.lines.all()] == [
        line.amount for line in issued.lines.all()
    ]


def test_drafts_cannot_be_credited_and_credit_needs_a_reason(files: FakeFiles) -> None:
    allocate(files)
    unit("Initech", plan())
    invoice_drafts_create(period=JAN)
    draft = Invoice.objects.get(unit__value="Initech")

    with pytest.raises(ApplicationError, match="only issued or paid invoices can be credited"):
        credit_note_issue(actor=None, invoice=draft, reason="x")


def test_void_keeps_the_number_and_paid_cannot_be_voided(issued: Invoice) -> None:
    with pytest.raises(ApplicationError) as refused:
        invoice_void(actor=None, invoice=issued, reason=" ")
    assert refused.value.field == "reason"

    voided = invoice_void(actor=None, invoice=issued, reason="Wrong customer")

    assert voided.status == InvoiceStatus.VOID
    assert voided.number == issued.number
    with pytest.raises(ApplicationError, match="only issued invoices can be marked paid"):
        invoice_mark_paid(actor=None, invoice=voided)
    with pytest.raises(IntegrityError):
        raw("UPDATE invoices_invoice SET status = 'issued' WHERE id = %s", issued.pk)


def test_paid_is_recorded_and_then_only_credit_notes_correct(issued: Invoice) -> None:
    paid = invoice_mark_paid(actor=None, invoice=issued, reference="Wire 4711")

    assert paid.status == InvoiceStatus.PAID
    assert paid.payment_reference == "Wire 4711"
    with pytest.raises(ApplicationError, match="correct a paid invoice with a credit note"):
        invoice_void(actor=None, invoice=paid, reason="Too late")
    assert credit_note_issue(actor=None, invoice=paid, amount=D("1"), reason="Goodwill").total


def test_lines_of_a_draft_can_change(files: FakeFiles) -> None:
    allocate(files)
    unit("Initech", plan())
    invoice_drafts_create(period=JAN)
    draft = Invoice.objects.get(unit__value="Initech")

    InvoiceLine.objects.filter(invoice=draft).update(amount=D("1"))
    Invoice.objects.filter(pk=draft.pk).delete()

    assert not Invoice.objects.filter(pk=draft.pk).exists()

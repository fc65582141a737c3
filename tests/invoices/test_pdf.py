"""The PDF an auditor reads: parties, dates, lines by service, taxes per rate, totals.

Each test reads the stored PDF's text back as a PDF reader would.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.models import EndCustomer
from invoices.exports import pdf_file
from invoices.models import Invoice, InvoiceLine, NumberSequence, SellerProfile
from invoices.rendering.layout import quantity_text
from invoices.rendering.pdf import document_html, document_pdf, html_layout
from invoices.services.corrections import credit_note_issue, invoice_void
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from invoices.services.totals import invoice_totals
from portal.core.money import money_text
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.pdf_text import pdf_text, stored_pdf_text
from tests.invoices.world import JAN, allocate, fee, plan, seller, unit

D = Decimal


@pytest.fixture
def month(files: FakeFiles) -> dict[str, Invoice]:
    """Globex issued on a 10 % markup with a fee and a credit; Initech drafted; 19 % tax."""
    allocate(files)
    seller()
    standard = plan(everything="10")
    fee(standard, "Platform fee", "25")
    fee(standard, "Welcome credit", "10", kind="credit")
    unit("Globex", standard, end_customer=EndCustomer.objects.create(legal_name="Globex"))
    unit("Initech", standard)
    invoice_drafts_create(period=JAN)
    globex = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))
    return {"globex": globex, "initech": Invoice.objects.get(unit__value="Initech")}


def usd(amount: Decimal) -> str:
    return money_text(amount, "USD")


def test_an_invoice_prints_parties_dates_lines_taxes_and_totals(
    month: dict[str, Invoice],
) -> None:
    invoice = month["globex"]
    assert invoice.number and invoice.issue_date and invoice.due_date

    text = stored_pdf_text(invoice)

    for seller_fact in ("Cloudreseller GmbH", "Hauptstrasse 1", "10115 Berlin", "DE123456789"):
        assert seller_fact in text
    for buyer_fact in ("Globex Incorporated", "1 Globex Way", "Springfield", "US-GLOBEX"):
        assert buyer_fact in text
    assert invoice.number in text
    assert f"Issue date {invoice.issue_date:%Y-%m-%d}" in text
    assert f"Due date {invoice.due_date:%Y-%m-%d}" in text
    assert "Payment terms 30 days net" in text
    assert "Service period 2026-01-01 to 2026-01-31" in text
    assert "Currency USD" in text
    for group in ("Amazon EC2", "Amazon S3", "Fees and credits"):
        assert group in text
    assert "Platform fee 25.00" in text and "Welcome credit -10.00" in text
    assert f"Subtotal {usd(invoice.subtotal)}" in text
    assert f"Tax 19 % on {usd(invoice.subtotal)} {usd(invoice.tax_total)}" in text
    assert f"Total USD {usd(invoice.total)}" in text
    assert f"Amount due USD {usd(invoice.total)}" in text
    assert "IBAN DE00 1234 5678 9012 3456 78" in text
    assert f"Invoice {invoice.number} · Globex Incorporated" in text  # the page footer


def test_the_groups_add_up_to_what_is_printed(month: dict[str, Invoice]) -> None:
    invoice = month["globex"]
    lines = list(invoice.lines.all())
    text = stored_pdf_text(invoice)

    for service in {line.service_name for line in lines if line.service_name}:
        group = sum(line.amount for line in lines if line.service_name == service)
        assert f"{service} {usd(group)}" in text
    for line in lines:
        assert usd(line.amount) in text
    assert invoice.subtotal == sum(line.amount for line in lines)


def test_the_pdf_shows_no_wholesale_cost_margin_or_pricing(month: dict[str, Invoice]) -> None:
    invoice = month["globex"]
    lines = list(invoice.lines.all())
    text = stored_pdf_text(invoice)

    for word in ("wholesale", "margin", "markup", "standard", "+10"):
        assert word not in text.lower()
    # Every amount printed is a resale figure: a line, a group, a tax or a total.
    services = {line.service_name for line in lines}
    resale = [line.amount for line in lines] + [
        sum(line.amount for line in lines if line.service_name == service) for service in services
    ]
    resale += [invoice.subtotal, invoice.tax_total, invoice.total]
    quantities = {quantity_text(line.quantity) for line in lines}
    printed = set(re.findall(r"-?[\d,]+\.\d{2}\b", text))
    assert printed <= {usd(amount) for amount in resale} | quantities
    for line in lines:
        if line.kind == "usage":
            assert line.wholesale_amount != line.amount
            assert f"{line.wholesale_amount.normalize():f}" not in text


def test_a_credit_note_names_the_invoice_it_corrects_and_why(month: dict[str, Invoice]) -> None:
    invoice = month["globex"]
    note = credit_note_issue(
        actor=None, invoice=invoice, amount=D("12.50"), reason="EC2 hours billed twice"
    )

    text = stored_pdf_text(note)

    assert note.number and note.number.startswith("CN-") and note.number in text
    assert "Credit note" in text
    assert f"Corrects invoice {invoice.number}" in text
    assert f"corrects invoice {invoice.number} of {invoice.issue_date:%Y-%m-%d}" in text
    assert "Reason: EC2 hours billed twice" in text
    assert "Corrections 12.50" in text and f"Correction of invoice {invoice.number}" in text
    assert "Amount credited USD 14.88" in text  # 12.50 + 19 % tax
    assert "Due date" not in text and "Amount due" not in text


def test_a_draft_preview_is_marked_draft_and_has_no_number(month: dict[str, Invoice]) -> None:
    draft = month["initech"]
    numbers_before = list(NumberSequence.objects.values_list("kind", "last_number"))

    text = pdf_text(document_pdf(draft))

    dash = "\N{EN DASH}"
    assert f"Number DRAFT {dash} not issued" in text
    assert "INV-" not in text
    assert f"Issue date {dash}" in text and f"Due date {dash}" in text
    assert "Initech Incorporated" in text and "Cloudreseller GmbH" in text
    assert list(NumberSequence.objects.values_list("kind", "last_number")) == numbers_before
    assert Invoice.objects.get(pk=draft.pk).is_draft


def test_tax_is_printed_per_rate_with_each_lines_rate(month: dict[str, Invoice]) -> None:
    draft = month["initech"]
    first = draft.lines.order_by("position").first()
    assert first is not None
    first.tax_rate = D("7")
    first.save()
    invoice_totals(draft, list(draft.lines.all()))
    draft.save()
    invoice = invoice_issue(actor=None, invoice=draft)

    text = stored_pdf_text(invoice)

    assert len(invoice.taxes) == 2
    for tax in invoice.taxes:
        assert f"Tax {tax['rate']} % on {usd(D(tax['base']))} {usd(D(tax['tax']))}" in text
    assert "7 %" in text and "19 %" in text
    assert f"Total USD {usd(invoice.total)}" in text


def test_an_issued_document_keeps_its_pdf_when_the_seller_changes_or_it_is_voided(
    month: dict[str, Invoice],
) -> None:
    invoice = month["globex"]
    with invoice.pdf.open("rb") as handle:
        stored = handle.read()
    SellerProfile.objects.update(legal_name="Renamed Reseller AG")
    invoice = invoice_void(actor=None, invoice=invoice, reason="Wrong customer")

    again = pdf_file(invoice)

    assert again.data == stored
    assert "Cloudreseller GmbH" in pdf_text(again.data)
    assert "Renamed Reseller AG" in pdf_text(document_pdf(month["initech"]))


# A long invoice ---------------------------------------------------------------------


def long_draft(month: dict[str, Invoice], group_sizes: list[int]) -> Invoice:
    """Initech's draft with groups of lines of these sizes (one service per group)."""
    draft = month["initech"]
    draft.lines.all().delete()
    lines: list[InvoiceLine] = []
    for group, size in enumerate(group_sizes, start=1):
        for item in range(1, size + 1):
            lines.append(
                InvoiceLine(
                    invoice=draft,
                    position=len(lines) + 1,
                    kind="usage",
                    service_name=f"Service {group:02d}",
                    usage_type=f"Usage {group:02d}-{item}",
                    description=f"Usage {group:02d}-{item}",
                    quantity=D("720"),
                    pricing_unit="Hrs",
                    amount=D(f"{group}.{item:02d}"),
                    tax_rate=D("19"),
                )
            )
    InvoiceLine.objects.bulk_create(lines)
    invoice_totals(draft, lines)
    draft.save()
    return draft


def test_a_long_invoice_breaks_across_pages_with_its_header_on_each(
    month: dict[str, Invoice],
) -> None:
    draft = long_draft(month, [3, 1, 2, 5, 1, 1, 4, 2] * 5)  # 95 lines in 40 groups
    invoice = invoice_issue(actor=None, invoice=draft)
    with invoice.pdf.open("rb") as handle:
        pages = [page.extract_text() for page in PdfReader(handle).pages]

    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "Description Quantity Unit Amount" in page  # the repeated header
        assert f"Invoice {invoice.number} · Initech Incorporated" in page
        assert f"Page {number} of {len(pages)}" in page
    closing = [page for page in pages if "Subtotal" in page]
    assert len(closing) == 1 and closing[0] is pages[-1]
    assert "Amount due USD" in pages[-1]
    assert all(f"Usage 40-{item}" in "".join(pages) for item in (1, 2))


def test_a_service_heading_never_ends_a_page(month: dict[str, Invoice]) -> None:
    for lead in range(6):  # shifts every group down by one line at a time
        draft = long_draft(month, [1] * lead + [3, 1, 2, 5, 1, 1, 4, 2] * 5)

        pages = html_layout(document_html(draft)).pages

        assert len(pages) >= 2
        for page in pages[:-1]:
            # WeasyPrint's box tree of the page: its last table row must be a line.
            rows = [b for b in page._page_box.descendants() if type(b).__name__ == "TableRowBox"]
            assert rows[-1].element.get("class") != "service", lead

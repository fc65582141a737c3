"""Drafting a period's invoices from the allocation, priced by each unit's plan."""

from __future__ import annotations

from decimal import Decimal

import pytest

from invoices.models import Invoice, InvoiceStatus, LineKind
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.core.errors import ApplicationError
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import JAN, allocate, fee, plan, seller, unit

D = Decimal


def draft_for(value: str) -> Invoice:
    return Invoice.objects.get(unit__value=value, period=JAN, status=InvoiceStatus.DRAFT)


def test_lines_keep_wholesale_and_resale_with_the_most_specific_rule(files: FakeFiles) -> None:
    allocate(files)
    standard = plan(everything="10", **{"Amazon S3": "-5"})
    unit("Globex", standard)

    _, refusals = invoice_drafts_create(period=JAN)

    assert refusals == []
    invoice = draft_for("Globex")
    lines = {(line.service_name, line.usage_type): line for line in invoice.lines.all()}
    m5 = lines[("Amazon EC2", "BoxUsage:m5.large")]
    assert m5.wholesale_amount == D("120.005")
    assert m5.quantity == D("1200")
    assert m5.pricing_unit == "Hrs"
    assert m5.amount == D("132.01")  # 132.0055 rounded half-up
    s3 = lines[("Amazon S3", "TimedStorage-ByteHrs")]
    assert s3.amount == D("31.67")  # 33.333 * 0.95 = 31.66635
    assert s3.price_rule == "-5% on Amazon S3"
    transfer = lines[("Amazon EC2", "DataTransfer-Out-Bytes")]
    assert transfer.amount == D("11.01")  # 11.0055
    assert invoice.subtotal == D("132.01") + D("31.67") + D("11.01")
    assert invoice.wholesale_total == D("163.343")
    assert invoice.tax_total == D("33.19")  # 19 % of 174.69 = 33.1911
    assert invoice.total == invoice.subtotal + invoice.tax_total


def test_fees_and_credits_in_force_for_the_period(files: FakeFiles) -> None:
    allocate(files)
    standard = plan(everything="0")
    fee(standard, "Managed service", "10", basis="percent")
    fee(standard, "Onboarding", "250", first_month=JAN, last_month=JAN)
    fee(
        standard,
        "Old fee",
        "99",
        first_month=JAN.replace(year=2025),
        last_month=JAN.replace(year=2025),
    )
    fee(standard, "Welcome credit", "5.005", kind="credit")
    unit("Initech", standard, tax_rate="0")

    invoice_drafts_create(period=JAN)

    invoice = draft_for("Initech")
    charges = {
        line.description: line for line in invoice.lines.all() if line.kind != LineKind.USAGE
    }
    assert set(charges) == {"Managed service (10 %)", "Onboarding", "Welcome credit"}
    # The usage lines round to 7.78 and 50.00: 10 % of 57.78 is 5.778.
    assert charges["Managed service (10 %)"].amount == D("5.78")
    assert charges["Welcome credit"].amount == D("-5.01")
    assert invoice.subtotal == D("57.78") + D("5.78") + D("250") - D("5.01")


def test_units_that_cannot_be_invoiced_are_named(files: FakeFiles) -> None:
    allocate(files)
    unit("Globex", None)
    unit("Initech", plan(), currency="EUR")

    drafted, refusals = invoice_drafts_create(period=JAN)

    assert drafted == []
    assert refusals == [
        "Globex Inc.: has no pricing plan; set one to invoice it.",
        "Initech Inc.: is invoiced in EUR but the 2026-01 bill is in USD; no exchange rates "
        "are configured.",
    ]


def test_rerun_replaces_drafts_but_never_issued_invoices(files: FakeFiles) -> None:
    allocate(files)
    seller()
    standard = plan(everything="10")
    unit("Globex", standard)
    unit("Initech", standard)
    invoice_drafts_create(period=JAN)
    issued = invoice_issue(actor=None, invoice=draft_for("Globex"))
    old_draft = draft_for("Initech")

    drafted, _ = invoice_drafts_create(period=JAN)

    assert [i.unit.value for i in drafted] == ["Initech"]
    assert not Invoice.objects.filter(pk=old_draft.pk).exists()
    issued.refresh_from_db()
    assert issued.status == InvoiceStatus.ISSUED
    assert Invoice.objects.filter(unit__value="Globex").count() == 1


def test_issuing_an_empty_invoice_is_refused(files: FakeFiles) -> None:
    allocate(files)
    seller()
    unit("Nobody", plan())
    invoice_drafts_create(period=JAN)

    with pytest.raises(ApplicationError, match="has no lines: there is nothing to invoice"):
        invoice_issue(actor=None, invoice=draft_for("Nobody"))


def test_a_unit_without_costs_gets_its_flat_fees_only(files: FakeFiles) -> None:
    allocate(files)
    standard = plan()
    fee(standard, "Managed service", "10", basis="percent")
    fee(standard, "Platform fee", "99")
    unit("Hooli", standard)

    invoice_drafts_create(period=JAN)

    lines = draft_for("Hooli").lines.all()
    assert [(line.description, line.amount) for line in lines] == [("Platform fee", D("99.00"))]

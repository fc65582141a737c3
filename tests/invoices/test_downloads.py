"""Downloads of PDFs, CSVs and a run's zip: who gets what, the audit log, the files' content.

Finance, admins and reseller admins download every document (a draft as a DRAFT
preview); an end customer only its own issued ones, without wholesale cost or margin;
anything else is a 404, for team leads everything.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest

from billing.models import EndCustomer
from invoices.exports import CSV_COLUMNS, MARGIN_COLUMNS
from invoices.models import Invoice, InvoiceRun
from invoices.services.corrections import credit_note_issue, invoice_void
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from invoices.services.runs import invoice_run_execute
from portal.audit.models import AuditEntry
from portal.users.models import Role, User
from tests.billing.ingest_fakes import FakeFiles
from tests.conftest import Api, TenantClient, make_user
from tests.invoices.pdf_text import pdf_text
from tests.invoices.world import JAN, allocate, fee, plan, seller, unit

D = Decimal
MARGIN_ROLES = [Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN]


@pytest.fixture
def month(files: FakeFiles, customer_user: User) -> dict[str, Invoice]:
    """Globex's invoice issued; Initech's (another customer's) and Hooli's (Globex's
    second unit, with nothing allocated) drafted."""
    allocate(files)
    seller()
    globex = EndCustomer.objects.create(legal_name="Globex Incorporated")
    globex.viewers.add(customer_user)
    initech = EndCustomer.objects.create(legal_name="Initech Incorporated")
    initech.viewers.add(make_user(Role.END_CUSTOMER, "ivan-initech"))
    standard = plan(everything="10")
    fee(standard, "=1+2 setup", "5")
    unit("Globex", standard, end_customer=globex)
    unit("Initech", standard, end_customer=initech)
    unit("Hooli", standard, end_customer=globex)
    invoice_drafts_create(period=JAN)
    issued = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))
    return {
        "globex": issued,
        "initech": Invoice.objects.get(unit__value="Initech"),
        "hooli": Invoice.objects.get(unit__value="Hooli"),
    }


def as_user(client: TenantClient, user: User) -> TenantClient:
    client.force_login(user)
    return client


def stored(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as handle:
        return handle.read()


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# Who gets what ----------------------------------------------------------------------


@pytest.mark.parametrize("role", MARGIN_ROLES)
def test_finance_and_admins_download_every_document(
    client_a: TenantClient, month: dict[str, Invoice], role: str
) -> None:
    as_user(client_a, make_user(role))
    invoice, draft = month["globex"], month["initech"]

    pdf = client_a.get(f"/invoices/{invoice.pk}/pdf/")
    preview = client_a.get(f"/invoices/{draft.pk}/pdf/")
    table = client_a.get(f"/invoices/{draft.pk}/csv/")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == stored(invoice)
    assert pdf["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert "private" in pdf["Cache-Control"]
    assert preview.status_code == 200 and "DRAFT" in pdf_text(preview.content)
    assert preview["Content-Disposition"] == f'attachment; filename="draft-{draft.pk}.pdf"'
    lines = rows(table)
    assert {row["document_number"] for row in lines} == {""}
    assert {row["status"] for row in lines} == {"draft"}
    assert "margin" in lines[0]


def test_an_end_customer_gets_its_own_issued_documents_only(
    client_a: TenantClient, month: dict[str, Invoice], customer_user: User
) -> None:
    as_user(client_a, customer_user)
    invoice = month["globex"]
    note = credit_note_issue(actor=None, invoice=invoice, amount=D("1"), reason="Goodwill")
    others = invoice_issue(actor=None, invoice=month["initech"])

    assert client_a.get(f"/invoices/{invoice.pk}/pdf/").content == stored(invoice)
    assert client_a.get(f"/invoices/{note.pk}/pdf/").content == stored(note)
    assert client_a.get(f"/invoices/{invoice.pk}/csv/").status_code == 200
    for hidden in (others, month["hooli"]):  # another customer's; its own draft
        assert client_a.get(f"/invoices/{hidden.pk}/pdf/").status_code == 404
        assert client_a.get(f"/invoices/{hidden.pk}/csv/").status_code == 404
    assert client_a.get("/invoices/999999/pdf/").status_code == 404


def test_an_end_customer_downloads_through_the_api_the_same(
    client_a: TenantClient, month: dict[str, Invoice], customer_user: User
) -> None:
    api = Api(client_a, customer_user)
    invoice = month["globex"]

    pdf = api.client.get(
        f"/api/v1/invoices/{invoice.pk}/pdf/",
        HTTP_AUTHORIZATION=api.auth,
        HTTP_ACCEPT="application/pdf",
    )

    assert pdf.status_code == 200 and pdf.content == stored(invoice)
    assert list(rows(api.get(f"invoices/{invoice.pk}/csv/"))[0]) == list(CSV_COLUMNS)
    assert api.get(f"invoices/{month['initech'].pk}/pdf/").status_code == 404
    assert api.get(f"invoices/{month['hooli'].pk}/csv/").status_code == 404
    run = InvoiceRun.objects.create(period=JAN)
    assert api.get(f"invoice-runs/{run.pk}/zip/").status_code == 404
    assert as_user(client_a, customer_user).get(f"/invoices/runs/{run.pk}/zip/").status_code == 404


def test_team_leads_and_strangers_get_nothing(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    invoice = month["globex"]
    run = InvoiceRun.objects.create(period=JAN)
    paths = [f"invoices/{invoice.pk}/pdf/", f"invoices/{invoice.pk}/csv/"]
    lead = make_user(Role.TEAM_LEAD, "lee-lead")
    api = Api(client_a, lead)

    for path in [*paths, f"invoice-runs/{run.pk}/zip/"]:
        assert api.get(path).status_code == 404
    as_user(client_a, lead)
    for path in [*paths, f"invoices/runs/{run.pk}/zip/"]:
        assert client_a.get(f"/{path}").status_code == 404
    client_a.logout()
    assert client_a.get(f"/{paths[0]}").status_code == 302  # to the login page
    assert client_a.get(f"/api/v1/{paths[0]}").status_code in (401, 403)
    assert not AuditEntry.objects.filter(action__contains="download").exists()


# The audit log ----------------------------------------------------------------------


def test_every_download_is_recorded(
    client_a: TenantClient, month: dict[str, Invoice], customer_user: User
) -> None:
    finance = make_user(Role.FINANCE, "fran-finance")
    invoice = month["globex"]
    Api(client_a, customer_user).get(f"invoices/{invoice.pk}/pdf/")
    as_user(client_a, finance).get(f"/invoices/{invoice.pk}/csv/")
    client_a.get(f"/invoices/{month['initech'].pk}/pdf/")

    entries = AuditEntry.objects.filter(action__contains="download").order_by("pk")

    assert [(e.action, e.actor, e.object_id, (e.after or {}).get("via")) for e in entries] == [
        ("invoice.download_pdf", customer_user, str(invoice.pk), "api"),
        ("invoice.download_csv", finance, str(invoice.pk), "page"),
        ("invoice.download_pdf", finance, str(month["initech"].pk), "page"),
    ]
    first, second, third = (e.after for e in entries)
    assert first and first["number"] == invoice.number
    assert first["sha256"] == invoice.pdf_sha256 and first["draft_preview"] is False
    assert second and second["margins"] is True
    assert third and third["draft_preview"] is True and third["number"] is None


# The files --------------------------------------------------------------------------


def test_the_csv_has_a_row_per_line_summing_to_the_subtotal_with_exact_margins(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    as_user(client_a, make_user(Role.FINANCE))
    invoice = month["globex"]
    lines = {line.position: line for line in invoice.lines.all()}

    table = rows(client_a.get(f"/invoices/{invoice.pk}/csv/"))

    assert list(table[0]) == [*CSV_COLUMNS, *MARGIN_COLUMNS]
    assert len(table) == len(lines)
    assert sum(D(row["amount"]) for row in table) == invoice.subtotal
    for row in table:
        line = lines[int(row["line"])]
        assert (row["document_number"], row["kind"], row["period"], row["currency"]) == (
            invoice.number,
            "invoice",
            "2026-01",
            "USD",
        )
        assert row["amount"] == f"{line.amount:.2f}"
        assert D(row["wholesale_amount"]) == line.wholesale_amount
        assert D(row["margin"]) == line.amount - line.wholesale_amount
        assert row["tax_rate"] == "19"
        assert row["service"] == line.service_name
        if line.quantity is not None:
            assert D(row["quantity"]) == line.quantity
    setup = next(row for row in table if row["line_kind"] == "fee")
    assert setup["description"] == "'=1+2 setup"  # a spreadsheet keeps it as text


def test_an_end_customers_csv_has_no_wholesale_or_margin(
    client_a: TenantClient, month: dict[str, Invoice], customer_user: User
) -> None:
    as_user(client_a, customer_user)
    invoice = month["globex"]

    response = client_a.get(f"/invoices/{invoice.pk}/csv/")
    table = rows(response)

    assert list(table[0]) == list(CSV_COLUMNS)
    text = response.content.decode().lower()
    assert "wholesale" not in text and "margin" not in text
    for line in invoice.lines.filter(kind="usage"):
        assert f"{line.wholesale_amount.normalize():f}" not in text
    assert sum(D(row["amount"]) for row in table) == invoice.subtotal


def test_a_credit_note_csv_leaves_wholesale_and_margin_empty(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    as_user(client_a, make_user(Role.FINANCE))
    note = credit_note_issue(actor=None, invoice=month["globex"], reason="Cancelled")

    table = rows(client_a.get(f"/invoices/{note.pk}/csv/"))

    assert {(row["kind"], row["wholesale_amount"], row["margin"]) for row in table} == {
        ("credit_note", "", "")
    }
    assert sum(D(row["amount"]) for row in table) == note.subtotal


def test_a_voided_invoice_downloads_the_pdf_stored_at_issue(
    client_a: TenantClient, month: dict[str, Invoice], customer_user: User
) -> None:
    invoice = invoice_void(actor=None, invoice=month["globex"], reason="Duplicate")

    pdf = as_user(client_a, customer_user).get(f"/invoices/{invoice.pk}/pdf/")

    assert pdf.status_code == 200 and pdf.content == stored(invoice)
    assert hashlib.sha256(pdf.content).hexdigest() == invoice.pdf_sha256


def test_a_stored_pdf_changed_outside_the_portal_is_refused(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    invoice = month["globex"]
    with open(invoice.pdf.path, "wb") as handle:
        handle.write(b"%PDF-1.7 something else")
    finance = make_user(Role.FINANCE, "fran-finance")

    page = as_user(client_a, finance).get(f"/invoices/{invoice.pk}/pdf/", follow=True)
    answer = Api(client_a, finance).get(f"invoices/{invoice.pk}/pdf/")

    assert "differs from the one issued" in page.content.decode()
    assert answer.status_code == 400 and answer.json()["code"] == "pdf_altered"
    assert not AuditEntry.objects.filter(action="invoice.download_pdf").exists()


# A run's zip ------------------------------------------------------------------------


def test_a_runs_zip_holds_each_issued_document_and_its_credit_notes(
    client_a: TenantClient, files: FakeFiles
) -> None:
    allocate(files)
    seller()
    standard = plan(everything="10")
    for value in ("Globex", "Initech", "Hooli"):  # nothing is allocated to Hooli
        unit(value, standard)
    run = invoice_run_execute(actor=None, run=InvoiceRun.objects.create(period=JAN, issue=True))
    issued = list(Invoice.objects.filter(run=run, status="issued").order_by("number"))
    note = credit_note_issue(actor=None, invoice=issued[0], amount=D("2"), reason="Goodwill")
    finance = make_user(Role.FINANCE, "fran-finance")

    response = as_user(client_a, finance).get(f"/invoices/runs/{run.pk}/zip/")
    from_api = Api(client_a, finance).get(f"invoice-runs/{run.pk}/zip/")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"invoice-run-{run.pk}-2026-01.zip" in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    documents = [*issued, note]
    assert len(issued) == 2 and Invoice.objects.filter(run=run, status="draft").count() == 1
    assert sorted(archive.namelist()) == sorted(
        f"{d.number}.{ext}" for d in documents for ext in ("pdf", "csv")
    )
    for document in documents:
        assert archive.read(f"{document.number}.pdf") == stored(document)
        table = list(csv.DictReader(io.StringIO(archive.read(f"{document.number}.csv").decode())))
        assert sum(D(row["amount"]) for row in table) == document.subtotal
    assert from_api.status_code == 200
    run_entries = AuditEntry.objects.filter(action="invoicerun.download_zip", object_id=str(run.pk))
    assert [(e.after or {}).get("via") for e in run_entries.order_by("pk")] == ["page", "api"]
    for document in documents:
        entries = AuditEntry.objects.filter(
            action=f"{document.kind}.download_zip", object_id=str(document.pk), actor=finance
        )
        assert entries.count() == 2


def test_a_run_with_nothing_issued_has_no_zip(
    client_a: TenantClient, month: dict[str, Invoice]
) -> None:
    run = InvoiceRun.objects.create(period=JAN)
    finance = make_user(Role.FINANCE, "fran-finance")

    page = as_user(client_a, finance).get(f"/invoices/runs/{run.pk}/zip/", follow=True)
    answer = Api(client_a, finance).get(f"invoice-runs/{run.pk}/zip/")

    assert "has no issued documents yet" in page.content.decode()
    assert answer.status_code == 400 and answer.json()["code"] == "nothing_issued"

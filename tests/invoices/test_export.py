"""manage.py export_invoices: each issued document's stored PDF and CSV, into a directory."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from invoices.exports import CSV_COLUMNS, MARGIN_COLUMNS
from invoices.models import Invoice
from invoices.services.corrections import credit_note_issue, invoice_void
from invoices.services.drafts import invoice_drafts_create
from invoices.services.issuing import invoice_issue
from portal.audit.models import AuditEntry
from tests.billing.ingest_fakes import FakeFiles
from tests.invoices.world import JAN, allocate, plan, seller, unit

D = Decimal


def export(*args: str) -> str:
    out = StringIO()
    call_command("export_invoices", *args, stdout=out)
    return out.getvalue()


def options(out: Path, period: str = "2026-01", tenant: str = "alpha") -> list[str]:
    return ["--tenant", tenant, "--period", period, "--out", str(out)]


@pytest.fixture
def documents(files: FakeFiles) -> list[Invoice]:
    """Globex's invoice with a credit note, Initech's voided; Hooli's draft (no lines)."""
    allocate(files)
    seller()
    standard = plan(everything="10")
    for value in ("Globex", "Initech", "Hooli"):
        unit(value, standard)
    invoice_drafts_create(period=JAN)
    globex = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Globex"))
    note = credit_note_issue(actor=None, invoice=globex, amount=D("5"), reason="Goodwill")
    initech = invoice_issue(actor=None, invoice=Invoice.objects.get(unit__value="Initech"))
    voided = invoice_void(actor=None, invoice=initech, reason="Wrong unit")
    return [globex, voided, note]


def stored(invoice: Invoice) -> bytes:
    with invoice.pdf.open("rb") as handle:
        return handle.read()


def test_export_writes_each_issued_documents_pdf_and_csv(
    documents: list[Invoice], tmp_path: Path
) -> None:
    out = tmp_path / "exports" / "2026-01"

    printed = export(*options(out))

    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(f"{d.number}.{ext}" for d in documents for ext in ("pdf", "csv"))
    for document in documents:
        assert (out / f"{document.number}.pdf").read_bytes() == stored(document)
        table = list(csv.DictReader(io.StringIO((out / f"{document.number}.csv").read_text())))
        assert list(table[0]) == list(CSV_COLUMNS)  # no wholesale or margin by default
        assert sum(D(row["amount"]) for row in table) == document.subtotal
        assert f"Wrote {document.number}.pdf and {document.number}.csv" in printed
        entry = AuditEntry.objects.get(action=f"{document.kind}.export", object_id=document.pk)
        assert entry.actor is None and entry.actor_name == "manage.py export_invoices"
        assert entry.after and entry.after["directory"] == str(out)
    assert "invoice (void)" in printed and "credit note (issued)" in printed
    assert f"Exported 3 document(s) of 2026-01 from 'alpha' to {out}." in printed
    assert not any(name.startswith(".") for name in names)


def test_export_again_writes_the_same_files_and_margins_only_when_asked(
    documents: list[Invoice], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export(*options(out))
    first = {path.name: path.read_bytes() for path in out.iterdir()}

    export(*options(out))
    export(*options(tmp_path / "finance"), "--with-margins")

    assert {path.name: path.read_bytes() for path in out.iterdir()} == first
    invoice = documents[0]
    with_margins = (tmp_path / "finance" / f"{invoice.number}.csv").read_text()
    header = next(csv.reader(io.StringIO(with_margins)))
    assert header == [*CSV_COLUMNS, *MARGIN_COLUMNS]


@pytest.mark.parametrize(
    ("tenant", "period", "message"),
    [
        ("nosuch", "2026-01", "No tenant has the schema 'nosuch'"),
        ("public", "2026-01", "No tenant has the schema 'public'"),
        ("alpha", "2026-13", "--period takes a month as YYYY-MM, not '2026-13'"),
        ("alpha", "January", "--period takes a month as YYYY-MM"),
        ("alpha", "2026-02", "no issued invoice or credit note for 2026-02; nothing was written"),
    ],
)
def test_export_refuses_an_unknown_tenant_a_bad_period_or_an_empty_one(
    documents: list[Invoice], tmp_path: Path, tenant: str, period: str, message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        export(*options(tmp_path / "out", period, tenant))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not AuditEntry.objects.filter(action__endswith=".export").exists()


def test_export_refuses_a_directory_it_cannot_write_into(
    documents: list[Invoice], tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")

    with pytest.raises(CommandError, match="is a file; give a directory"):
        export(*options(a_file))
    with pytest.raises(CommandError, match=r"Cannot write into .*a-file/below"):
        export(*options(a_file / "below"))
    assert not AuditEntry.objects.filter(action__endswith=".export").exists()


def test_export_stops_at_a_stored_pdf_that_was_changed(
    documents: list[Invoice], tmp_path: Path
) -> None:
    Path(documents[0].pdf.path).write_bytes(b"%PDF-1.7 tampered")

    with pytest.raises(CommandError, match="differs from the one issued"):
        export(*options(tmp_path / "out"))
    assert not (tmp_path / "out" / f"{documents[0].number}.pdf").exists()

"""Invoices and credit notes as files: the PDF, a CSV of the lines, a run's zip.

An issued document's PDF is the one stored when it was issued, checked against the
SHA-256 recorded then and never rendered again, whatever happened since (paid, voided,
the seller profile changed). A draft's PDF is a preview rendered now, marked DRAFT,
without a number.

The CSV has one row per line, amounts as exact decimal text and as the document prints
them (a credit note's are positive, like its total); its `amount` column sums to the
document's subtotal. Wholesale cost and margin columns are written only for the
roles that see margins; an end customer's CSV has no such columns. A credit note takes
back resale, not cost, so its lines leave those two columns empty.

Every download is recorded in the audit log, one entry per document:
`<kind>.download_pdf`, `<kind>.download_csv`, `<kind>.download_zip` (plus
`invoicerun.download_zip` on the run) and `<kind>.export` for `manage.py export_invoices`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Q, QuerySet

from invoices.models import DocumentKind, Invoice, InvoiceLine, InvoiceRun
from invoices.models.documents import FINAL_STATUSES
from invoices.rendering.pdf import document_pdf
from invoices.selectors import shows_margins, with_lines
from portal.audit.services import audit_record
from portal.core.errors import ApplicationError
from portal.core.money import minor_unit

CSV_COLUMNS = (
    "document_number",
    "kind",
    "status",
    "period",
    "currency",
    "line",
    "line_kind",
    "service",
    "usage_type",
    "description",
    "quantity",
    "pricing_unit",
    "amount",
    "tax_rate",
)
MARGIN_COLUMNS = ("wholesale_amount", "margin")
PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"
ZIP_TYPE = "application/zip"
# A spreadsheet runs a cell that starts with one of these as a formula; text from the
# bill (service names, usage types) is prefixed with ' so it stays text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
ZIP_IN_MEMORY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class DocumentFile:
    name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class RunArchive:
    """A run's zip, in a temporary file (in memory while small) positioned at its start."""

    name: str
    file: IO[bytes]
    documents: list[Invoice]


# Building the files ------------------------------------------------------------------


def file_stem(invoice: Invoice) -> str:
    """The document's number made safe as a file name; `draft-<id>` before it has one."""
    if not invoice.number:
        return f"draft-{invoice.pk}"
    return UNSAFE_FILE_CHARS.sub("_", invoice.number)


def stored_pdf(invoice: Invoice) -> bytes:
    """The PDF stored at issue, after checking it is the one whose hash was recorded."""
    if not invoice.pdf:
        raise ApplicationError(f"{invoice} has no stored PDF.", code="pdf_missing")
    try:
        with invoice.pdf.open("rb") as handle:
            data: bytes = handle.read()
    except OSError:
        raise ApplicationError(
            f"The stored PDF of {invoice} ({invoice.pdf.name}) cannot be read; restore it "
            "from the backup of the media storage.",
            code="pdf_missing",
        ) from None
    if hashlib.sha256(data).hexdigest() != invoice.pdf_sha256:
        raise ApplicationError(
            f"The stored PDF of {invoice} differs from the one issued (its SHA-256 is not "
            f"{invoice.pdf_sha256}); restore it from the backup of the media storage.",
            code="pdf_altered",
        )
    return data


def pdf_file(invoice: Invoice) -> DocumentFile:
    """The stored PDF of an issued document; a DRAFT preview of a draft."""
    data = document_pdf(invoice) if invoice.is_draft else stored_pdf(invoice)
    return DocumentFile(f"{file_stem(invoice)}.pdf", PDF_TYPE, data)


def _text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _exact(value: Decimal) -> str:
    """`value` exactly, without exponent or trailing zeros."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def _money(value: Decimal, currency: str) -> str:
    """Exact, with at least the currency's minor unit's places (12 -> "12.00")."""
    rounded = value.quantize(minor_unit(currency))
    return f"{rounded:f}" if rounded == value else _exact(value)


def csv_header(*, margins: bool) -> list[str]:
    return [*CSV_COLUMNS, *(MARGIN_COLUMNS if margins else ())]


def csv_rows(invoice: Invoice, *, margins: bool) -> Iterator[list[str]]:
    """One row per line of `invoice`, in line order."""
    currency = invoice.currency
    for line in invoice.lines.all():
        row = [
            invoice.number or "",
            invoice.kind,
            invoice.status,
            f"{invoice.period:%Y-%m}",
            currency,
            str(line.position),
            line.kind,
            _text(line.service_name),
            _text(line.usage_type),
            _text(line.description),
            "" if line.quantity is None else _exact(line.quantity),
            _text(line.pricing_unit),
            _money(line.amount, currency),
            _exact(line.tax_rate),
        ]
        if margins:
            row += _margin_cells(invoice, line)
        yield row


def _margin_cells(invoice: Invoice, line: InvoiceLine) -> list[str]:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return ["", ""]
    return [_money(line.wholesale_amount, invoice.currency), _money(line.margin, invoice.currency)]


def documents_csv(invoices: Iterable[Invoice], *, margins: bool) -> str:
    """The lines of `invoices` as one CSV text with a header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header(margins=margins))
    for invoice in invoices:
        writer.writerows(csv_rows(invoice, margins=margins))
    return out.getvalue()


def csv_file(invoice: Invoice, *, margins: bool) -> DocumentFile:
    text = documents_csv([invoice], margins=margins)
    return DocumentFile(f"{file_stem(invoice)}.csv", CSV_TYPE, text.encode())


def run_documents(run: InvoiceRun, rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """The issued documents (void and paid too) among `rows` of the run, and the credit
    notes of its invoices, invoices first, by number."""
    of_run = Q(run=run) | Q(kind=DocumentKind.CREDIT_NOTE, original__run=run)
    issued = rows.filter(of_run, status__in=FINAL_STATUSES)
    return with_lines(issued).order_by("kind", "number")


def period_documents(period: date, rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """The issued documents (void and paid too) of a billing period, invoices first."""
    issued = rows.filter(period=period, status__in=FINAL_STATUSES)
    return with_lines(issued).order_by("kind", "number")


def _spooled() -> IO[bytes]:
    """A temporary file kept in memory up to 32 MiB; the response that sends it closes it."""
    return tempfile.SpooledTemporaryFile(max_size=ZIP_IN_MEMORY_BYTES)


def _zip_info(name: str, invoice: Invoice, compress: int) -> zipfile.ZipInfo:
    moment = invoice.issued_at or invoice.created_at
    info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
    info.compress_type = compress
    return info


# Downloads (audited) -----------------------------------------------------------------


def _audit(
    actor: Any, action: str, invoice: Invoice, *, actor_name: str = "", **after: Any
) -> None:
    audit_record(
        actor=actor,
        action=action,
        instance=invoice,
        after={"number": invoice.number, "status": invoice.status, **after},
        actor_name=actor_name,
    )


@transaction.atomic
def invoice_download(*, actor: Any, invoice: Invoice, file_format: str, via: str) -> DocumentFile:
    """The document as `file_format` ("pdf" or "csv") for `actor`, recorded in the audit log.

    `invoice` comes from `Invoice.objects.visible_to(actor)`; the CSV carries wholesale
    cost and margins only if the actor's role sees them.
    """
    if file_format == "pdf":
        file = pdf_file(invoice)
        _audit(
            actor,
            f"{invoice.kind}.download_pdf",
            invoice,
            file=file.name,
            via=via,
            sha256=file.sha256,
            draft_preview=invoice.is_draft,
        )
        return file
    if file_format == "csv":
        margins = shows_margins(actor)
        file = csv_file(invoice, margins=margins)
        _audit(
            actor, f"{invoice.kind}.download_csv", invoice, file=file.name, via=via, margins=margins
        )
        return file
    raise ApplicationError(
        f"Documents download as pdf or csv, not {file_format!r}.", code="invalid_format"
    )


@transaction.atomic
def invoice_run_zip_download(*, actor: Any, run: InvoiceRun, via: str) -> RunArchive:
    """A zip of the run's issued documents and their credit notes, each as PDF and CSV
    named by its number; one audit entry per document and one for the run."""
    documents = list(run_documents(run, Invoice.objects.visible_to(actor)))
    if not documents:
        raise ApplicationError(
            f"The invoice run {run.pk} for {run.period:%Y-%m} has no issued documents yet; "
            "issue its drafts first.",
            code="nothing_issued",
        )
    margins = shows_margins(actor)
    spooled = _spooled()
    with zipfile.ZipFile(spooled, "w") as archive:
        for invoice in documents:
            pdf = pdf_file(invoice)
            table = csv_file(invoice, margins=margins)
            archive.writestr(_zip_info(pdf.name, invoice, zipfile.ZIP_STORED), pdf.data)
            archive.writestr(_zip_info(table.name, invoice, zipfile.ZIP_DEFLATED), table.data)
            _audit(
                actor,
                f"{invoice.kind}.download_zip",
                invoice,
                run=run.pk,
                via=via,
                files=[pdf.name, table.name],
                sha256=pdf.sha256,
                margins=margins,
            )
    name = f"invoice-run-{run.pk}-{run.period:%Y-%m}.zip"
    audit_record(
        actor=actor,
        action="invoicerun.download_zip",
        instance=run,
        after={"file": name, "via": via, "documents": [d.number for d in documents]},
    )
    spooled.seek(0)
    return RunArchive(name=name, file=spooled, documents=documents)


# Exports (audited) -------------------------------------------------------------------

EXPORTER = "manage.py export_invoices"


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (through a temporary file beside it)."""
    partial = path.with_name(f".{path.name}.part")
    partial.write_bytes(data)
    os.replace(partial, path)


@transaction.atomic
def invoice_export(*, invoice: Invoice, directory: Path, margins: bool = False) -> list[Path]:
    """Write the document's stored PDF and its CSV into `directory`, named by its number;
    an export by the system, recorded in the audit log."""
    written = []
    pdf = pdf_file(invoice)
    table = csv_file(invoice, margins=margins)
    for file in (pdf, table):
        path = directory / file.name
        _write(path, file.data)
        written.append(path)
    _audit(
        None,
        f"{invoice.kind}.export",
        invoice,
        actor_name=EXPORTER,
        directory=str(directory),
        files=[pdf.name, table.name],
        sha256=pdf.sha256,
        margins=margins,
    )
    return written

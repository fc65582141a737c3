"""Reading a stored invoice PDF's text back, as an auditor's tool would."""

from __future__ import annotations

import io

from pypdf import PdfReader

from invoices.models import Invoice


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def stored_pdf_text(invoice: Invoice) -> str:
    with invoice.pdf.open("rb") as handle:
        return pdf_text(handle.read())

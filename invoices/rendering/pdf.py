"""Invoices and credit notes as PDF, from the HTML template `invoices/pdf/document.html`.

The stylesheet and font configuration are loaded once per process; each document is
one template render and one WeasyPrint layout.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration

from invoices.models import Invoice
from invoices.rendering.layout import document_context

STYLESHEET = Path(settings.BASE_DIR) / "templates" / "invoices" / "pdf" / "document.css"


@functools.cache
def _fonts() -> FontConfiguration:
    return FontConfiguration()


@functools.cache
def _stylesheet() -> CSS:
    return CSS(filename=str(STYLESHEET), font_config=_fonts())


def document_html(invoice: Invoice, **extra: Any) -> str:
    return render_to_string("invoices/pdf/document.html", document_context(invoice, **extra))


def html_to_pdf(html: str) -> bytes:
    """Bare WeasyPrint on the project's stylesheet (the benchmark's floor uses it too)."""
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    pdf: bytes = document.write_pdf(stylesheets=[_stylesheet()], font_config=_fonts())
    return pdf


def html_layout(html: str) -> Document:
    """The laid-out pages of `html`, to check where they break."""
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.render(stylesheets=[_stylesheet()], font_config=_fonts())


def document_pdf(invoice: Invoice) -> bytes:
    """The document's PDF; a draft's carries a DRAFT mark and no number."""
    return html_to_pdf(document_html(invoice))

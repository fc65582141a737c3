"""Downloading invoices and credit notes (PDF, CSV) and a run's zip: pages and API.

Rows come only through `visible_to(user)`: admins, finance and reseller admins get every
document and run; an end customer its own issued documents; anyone else, and anything
else, gets 404 (never a 403 that would tell a document exists). Every download is
recorded in the audit log by `invoices.exports`.

Pages (under /invoices/): `invoice-pdf`, `invoice-csv`, `invoice-run-zip`; the API
(under /api/v1/, token auth): `api-invoice-pdf`, `api-invoice-csv`, `api-invoice-run-zip`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views import View
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from invoices.exports import (
    ZIP_TYPE,
    DocumentFile,
    RunArchive,
    invoice_download,
    invoice_run_zip_download,
)
from invoices.models import Invoice, InvoiceRun
from portal.core.apis import ScopedAPIMixin
from portal.core.errors import ApplicationError
from portal.core.views import ScopedViewMixin


def file_response(file: DocumentFile) -> HttpResponse:
    response = HttpResponse(file.data, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.name)
    response["Cache-Control"] = "private, no-store"
    return response


def archive_response(archive: RunArchive) -> FileResponse:
    response = FileResponse(
        archive.file, as_attachment=True, filename=archive.name, content_type=ZIP_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response


# Pages -------------------------------------------------------------------------------


class DocumentDownloadView(ScopedViewMixin, View):
    """An invoice or credit note as `file_format`; a refusal shows on its page."""

    model = Invoice
    file_format: ClassVar[str] = "pdf"
    http_method_names = ["get"]  # a HEAD would be recorded as a download

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        invoice = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            file = invoice_download(
                actor=request.user, invoice=invoice, file_format=self.file_format, via="page"
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invoice-detail", pk=invoice.pk)
        return file_response(file)


class InvoicePdfView(DocumentDownloadView):
    file_format = "pdf"


class InvoiceCsvView(DocumentDownloadView):
    file_format = "csv"


class RunZipView(ScopedViewMixin, View):
    """A run's issued documents and their credit notes, each as PDF and CSV, in a zip."""

    model = InvoiceRun
    http_method_names = ["get"]

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        run = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            archive = invoice_run_zip_download(actor=request.user, run=run, via="page")
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("invoice-run", pk=run.pk)
        return archive_response(archive)


# API ---------------------------------------------------------------------------------


class FileNegotiation(BaseContentNegotiation):
    """A download answers with its file whatever the Accept header says; errors in JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class DownloadApi(ScopedAPIMixin, APIView):
    content_negotiation_class = FileNegotiation
    http_method_names = ["get"]  # a HEAD would be recorded as a download


class DocumentDownloadApi(DownloadApi):
    """GET an invoice or credit note as `file_format`."""

    model = Invoice
    file_format: ClassVar[str] = "pdf"

    def get(self, request: Request, pk: int) -> HttpResponse:
        invoice = get_object_or_404(self.get_queryset(), pk=pk)
        file = invoice_download(
            actor=request.user, invoice=invoice, file_format=self.file_format, via="api"
        )
        return file_response(file)


class InvoicePdfApi(DocumentDownloadApi):
    file_format = "pdf"


class InvoiceCsvApi(DocumentDownloadApi):
    file_format = "csv"


class RunZipApi(DownloadApi):
    """GET a run's issued documents and their credit notes as a zip."""

    model = InvoiceRun

    def get(self, request: Request, pk: int) -> FileResponse:
        run = get_object_or_404(self.get_queryset(), pk=pk)
        return archive_response(invoice_run_zip_download(actor=request.user, run=run, via="api"))

"""Downloads of invoices, credit notes and runs, mounted under /invoices/."""

from __future__ import annotations

from django.urls import path

from invoices import downloads

urlpatterns = [
    path("<int:pk>/pdf/", downloads.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("<int:pk>/csv/", downloads.InvoiceCsvView.as_view(), name="invoice-csv"),
    path("runs/<int:pk>/zip/", downloads.RunZipView.as_view(), name="invoice-run-zip"),
]

"""Downloads of invoices, credit notes and runs in the REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from invoices import downloads

urlpatterns = [
    path("invoices/<int:pk>/pdf/", downloads.InvoicePdfApi.as_view(), name="api-invoice-pdf"),
    path("invoices/<int:pk>/csv/", downloads.InvoiceCsvApi.as_view(), name="api-invoice-csv"),
    path(
        "invoice-runs/<int:pk>/zip/",
        downloads.RunZipApi.as_view(),
        name="api-invoice-run-zip",
    ),
]

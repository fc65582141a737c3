"""The invoice pages, mounted under /invoices/."""

from __future__ import annotations

from typing import Any

from django.urls import include, path

from invoices.views import documents, reconciliation, runs, settings

urlpatterns: list[Any] = [
    path("", documents.InvoiceListView.as_view(), name="invoice-list"),
    path("<int:pk>/", documents.InvoiceDetailView.as_view(), name="invoice-detail"),
    *[
        path(
            f"<int:pk>/{action}/",
            documents.InvoiceActionView.as_view(action=action),
            name=f"invoice-{action}",
        )
        for action in ("issue", "void", "pay", "credit-note")
    ],
    path("runs/", runs.RunListView.as_view(), name="invoice-runs"),
    path("runs/new/", runs.RunCreateView.as_view(), name="invoice-run-create"),
    path("runs/<int:pk>/", runs.RunDetailView.as_view(), name="invoice-run"),
    path("units/", settings.UnitListView.as_view(), name="invoice-units"),
    path("units/new/", settings.UnitCreateView.as_view(), name="invoice-unit-create"),
    path("units/<int:pk>/edit/", settings.UnitChangeView.as_view(), name="invoice-unit-change"),
    path("plans/", settings.PlanListView.as_view(), name="invoice-plans"),
    path("plans/new/", settings.PlanFormView.as_view(), name="invoice-plan-create"),
    path("plans/<int:pk>/edit/", settings.PlanFormView.as_view(), name="invoice-plan-change"),
    path("seller/", settings.SellerProfileView.as_view(), name="invoice-seller"),
    path(
        "reconciliation/",
        reconciliation.ReconciliationView.as_view(),
        name="invoice-reconciliation",
    ),
]

# PDF, CSV and zip downloads (invoices.downloads).
urlpatterns.append(path("", include("invoices.download_urls")))

"""The invoice pages, mounted under /invoices/."""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from django.urls import include, path

from invoices import views

urlpatterns: list[Any] = [
    path("", views.InvoiceListView.as_view(), name="invoice-list"),
    path("<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice-detail"),
    *[
        path(
            f"<int:pk>/{action}/",
            views.InvoiceActionView.as_view(action=action),
            name=f"invoice-{action}",
        )
        for action in ("issue", "void", "pay", "credit-note")
    ],
    path("runs/", views.RunListView.as_view(), name="invoice-runs"),
    path("runs/new/", views.RunCreateView.as_view(), name="invoice-run-create"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="invoice-run"),
    path("units/", views.UnitListView.as_view(), name="invoice-units"),
    path("units/new/", views.UnitCreateView.as_view(), name="invoice-unit-create"),
    path("units/<int:pk>/edit/", views.UnitChangeView.as_view(), name="invoice-unit-change"),
    path("plans/", views.PlanListView.as_view(), name="invoice-plans"),
    path("plans/new/", views.PlanFormView.as_view(), name="invoice-plan-create"),
    path("plans/<int:pk>/edit/", views.PlanFormView.as_view(), name="invoice-plan-change"),
    path("seller/", views.SellerProfileView.as_view(), name="invoice-seller"),
    path("reconciliation/", views.ReconciliationView.as_view(), name="invoice-reconciliation"),
]

# PDF, CSV and zip downloads (invoices.downloads), once that module is in place.
if find_spec("invoices.download_urls") is not None:
    urlpatterns.append(path("", include("invoices.download_urls")))

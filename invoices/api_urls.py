"""The invoices REST API, mounted under /api/v1/."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from invoices.apis import (
    BillingUnitApi,
    InvoiceApi,
    InvoiceRunApi,
    PricingPlanApi,
    ReconciliationApi,
    SellerProfileApi,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("pricing-plans", PricingPlanApi, basename="pricingplan-api")
router.register("billing-units", BillingUnitApi, basename="billingunit-api")
router.register("invoice-runs", InvoiceRunApi, basename="invoicerun-api")
router.register("invoices", InvoiceApi, basename="invoice-api")

urlpatterns: list[Any] = [
    path("seller-profile/", SellerProfileApi.as_view(), name="seller-profile-api"),
    path("reconciliation/", ReconciliationApi.as_view(), name="reconciliation-api"),
    *router.urls,
]

# PDF, CSV and zip downloads (invoices.downloads).
urlpatterns.append(path("", include("invoices.download_api_urls")))

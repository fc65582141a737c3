"""The billing REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.apis import (
    AccountApi,
    BillingViewApi,
    EndCustomerApi,
    OrganizationApi,
    OUApi,
    TeamApi,
    TransferApi,
)
from billing.customer_apis import CustomerLoginApi, CustomerLoginDetailApi
from billing.ingest.api import IngestJobApi, TagKeyApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("organizations", OrganizationApi, basename="organization-api")
router.register("ous", OUApi, basename="ou-api")
router.register("accounts", AccountApi, basename="account-api")
router.register("transfers", TransferApi, basename="transfer-api")
router.register("billing-views", BillingViewApi, basename="billingview-api")
router.register("teams", TeamApi, basename="team-api")
router.register("end-customers", EndCustomerApi, basename="endcustomer-api")
router.register("ingests", IngestJobApi, basename="ingest-api")
router.register("tag-keys", TagKeyApi, basename="tagkey-api")

urlpatterns = [
    path(
        "end-customers/<int:pk>/users/",
        CustomerLoginApi.as_view(),
        name="endcustomer-users-api",
    ),
    path(
        "end-customers/<int:pk>/users/<int:user_id>/",
        CustomerLoginDetailApi.as_view(),
        name="endcustomer-user-api",
    ),
    *router.urls,
]

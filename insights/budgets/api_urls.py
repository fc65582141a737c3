"""The budgets' REST API, mounted under /api/v1/."""

from __future__ import annotations

from django.urls import path

from insights.budgets.apis import BudgetApi

urlpatterns = [
    path("budgets/", BudgetApi.as_view({"get": "list", "post": "create"}), name="budget-api"),
    path(
        "budgets/<int:pk>/",
        BudgetApi.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="budget-api-detail",
    ),
    path(
        "budgets/<int:pk>/alerts/",
        BudgetApi.as_view({"get": "alerts"}),
        name="budget-api-alerts",
    ),
]

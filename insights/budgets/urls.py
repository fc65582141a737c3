"""The budgets' pages, mounted under /budgets/."""

from __future__ import annotations

from django.urls import path

from insights.budgets.views import (
    BudgetDeleteView,
    BudgetDetailView,
    BudgetFormView,
    BudgetListView,
)

urlpatterns = [
    path("", BudgetListView.as_view(), name="budget-list"),
    path("new/", BudgetFormView.as_view(), name="budget-create"),
    path("<int:pk>/", BudgetDetailView.as_view(), name="budget-detail"),
    path("<int:pk>/edit/", BudgetFormView.as_view(), name="budget-edit"),
    path("<int:pk>/delete/", BudgetDeleteView.as_view(), name="budget-delete"),
]

"""The allocation pages, mounted under /allocation/."""

from __future__ import annotations

from django.urls import path

from allocation import views

urlpatterns = [
    path("", views.CategoryListView.as_view(), name="allocation-categories"),
    path("categories/new/", views.CategoryCreateView.as_view(), name="allocation-category-create"),
    path(
        "categories/<int:pk>/versions/new/",
        views.VersionCreateView.as_view(),
        name="allocation-version-create",
    ),
    path("categories/<int:pk>/", views.CategoryDetailView.as_view(), name="allocation-category"),
    path("categories/<int:pk>/run/", views.RunCreateView.as_view(), name="allocation-run-create"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="allocation-run"),
    path("runs/<int:pk>/explain/", views.ExplainView.as_view(), name="allocation-explain"),
]

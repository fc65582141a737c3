"""Cost data pages, mounted under /costs/."""

from __future__ import annotations

from django.urls import path

from billing.ingest import views

urlpatterns = [
    path("ingests/", views.IngestListView.as_view(), name="ingest-list"),
    path("ingests/upload/", views.IngestUploadView.as_view(), name="ingest-upload"),
    path("ingests/<int:pk>/", views.IngestDetailView.as_view(), name="ingest-detail"),
]

"""Pages of ingests: upload bill files, watch progress, read the outcome."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.generic import DetailView, ListView, View

from billing.ingest.liveness import ingest_jobs_fail_stopped
from billing.ingest.reconcile import rejected_money
from billing.ingest.uploads import bill_upload_limit
from billing.models import IngestJob
from billing.services.ingests import ingest_job_create
from portal.core.errors import ApplicationError
from portal.core.permissions import ADMIN_ONLY, may_write
from portal.core.sizes import size_text
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class IngestUploadForm(forms.Form):
    bills = MultipleFileField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The limit is a setting: read it when the form is made, not at import.
        self.fields["bills"].help_text = (
            "AWS CUR (legacy or 2.0) or FOCUS: CSV, CSV.gz or Parquet, up to "
            f"{size_text(bill_upload_limit())} each; all files of a month at once."
        )


class IngestListView(ScopedViewMixin, ListView[IngestJob]):
    model = IngestJob
    template_name = "billing/ingest_list.html"
    paginate_by = 25

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ingest_jobs_fail_stopped()  # none is shown running whose process is gone
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if may_write(self.request.user, ADMIN_ONLY):
            context["form"] = IngestUploadForm()
        return context


ROWS_SHOWN = 200


class IngestDetailView(ScopedViewMixin, DetailView[IngestJob]):
    model = IngestJob
    template_name = "billing/ingest_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ingest_jobs_fail_stopped()
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("period_sums")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        job = self.object
        if job.is_finished:
            context["rejected_money"] = rejected_money(job)
        kinds = [_issue_kind(key, count) for key, count in job.issue_counts.items()]
        context["issue_kinds"] = sorted(kinds, key=lambda k: k["kind"] != "rejected")
        # Rejected rows lose money, so they come first; interpreted ones are only listed.
        context["rejected_rows"] = job.issues.filter(kind="rejected")[:ROWS_SHOWN]
        context["interpreted_rows"] = job.issues.exclude(kind="rejected")[:ROWS_SHOWN]
        return context


def _issue_kind(key: str, count: int) -> dict[str, Any]:
    """One line of the issue counts: their key is "file | column | message | kind"."""
    file, column, rest = [*key.split(" | ", 2), "", ""][:3]
    message, _, kind = rest.rpartition(" | ")
    return {"count": count, "file": file, "column": column, "message": message, "kind": kind}


class IngestUploadView(WriteRoleRequiredMixin, View):
    write_roles = ADMIN_ONLY

    def post(self, request: HttpRequest) -> HttpResponse:
        form = IngestUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                job = ingest_job_create(actor=request.user, uploads=form.cleaned_data["bills"])
            except ApplicationError as exc:
                form.add_error("bills", exc.message)
            else:
                messages.success(request, f"Ingest #{job.pk} is queued.")
                return redirect("ingest-detail", pk=job.pk)
        jobs = IngestJob.objects.visible_to(request.user)[:25]
        return render(request, "billing/ingest_list.html", {"form": form, "object_list": jobs})

"""The page that takes a CSV of a team's business metrics; refused rows are listed by line."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from billing.models import Team
from insights.metric_rows import MAX_LISTED, MetricsRefused, example_csv
from insights.metrics import METRIC_WRITERS, business_metrics_import, writable_teams
from portal.core.views import ScopedViewMixin, WriteRoleRequiredMixin


class MetricUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with the header date,team,metric,value; one row a team, metric and day.",
    )


class BusinessMetricUploadView(ScopedViewMixin, WriteRoleRequiredMixin, View):
    """GET: the format and the form; POST: store the file, or show every row at fault."""

    model = Team
    write_roles = METRIC_WRITERS
    template_name = "insights/metrics_upload.html"

    def team(self) -> Team:
        team = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if not writable_teams(self.request.user).filter(pk=team.pk).exists():
            raise PermissionDenied("Only the team's leads and admins upload its metrics.")
        return team

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.page(self.team(), MetricUploadForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        team = self.team()
        form = MetricUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(team, form)
        try:
            result = business_metrics_import(
                actor=request.user, rows_or_file=form.cleaned_data["file"], source="page"
            )
        except MetricsRefused as refused:
            return self.page(team, form, refused=refused)
        messages.success(
            request,
            f"Stored {result.created + result.replaced} values: {result.created} new, "
            f"{result.replaced} replaced.",
        )
        return redirect("team-detail", team.pk)

    def page(
        self, team: Team, form: MetricUploadForm, refused: MetricsRefused | None = None
    ) -> HttpResponse:
        context: dict[str, Any] = {"team": team, "form": form, "example": example_csv(team.name)}
        if refused is not None:
            context["refused"] = refused.errors[:MAX_LISTED]
            context["refused_count"] = len(refused.errors)
            context["refused_more"] = max(0, len(refused.errors) - MAX_LISTED)
        return render(self.request, self.template_name, context)

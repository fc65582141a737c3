"""The logged-in home page (`/`, named `dashboard`): what this role's cost looks like today."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.timezone import localdate

from billing.ingest.views import IngestUploadView
from insights.home import home_for
from insights.serializers import answer_json
from portal.core.permissions import may_write


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    home = home_for(user=request.user, today=localdate())
    context = {
        "home": home,
        "chart_answer": answer_json(home.chart) if home.has_cost else None,
        "can_ingest": may_write(request.user, IngestUploadView.write_roles),
    }
    return render(request, "insights/home.html", context)

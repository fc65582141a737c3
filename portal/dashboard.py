"""The logged-in home page: what this role can see, at a glance."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billing.models import (
    Account,
    BillingTransfer,
    EndCustomer,
    LoadedPeriod,
    Organization,
    Team,
)
from portal.audit.models import AuditEntry


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    counts: dict[str, Any] = {
        "Organizations": Organization.objects.visible_to(user).count(),
        "Accounts": Account.objects.visible_to(user).count(),
        "Billing transfers": BillingTransfer.objects.visible_to(user).count(),
        "Teams": Team.objects.visible_to(user).count(),
        "End customers": EndCustomer.objects.visible_to(user).count(),
    }
    context = {
        "counts": counts,
        "teams": Team.objects.visible_to(user)[:10],
        "customers": EndCustomer.objects.visible_to(user)[:10],
        "recent_audit": AuditEntry.objects.visible_to(user).select_related("actor")[:10],
        "loaded_bills": LoadedPeriod.objects.visible_to(user)[:8],
    }
    return render(request, "dashboard.html", context)

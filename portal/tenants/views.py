"""Platform operator pages: list, create, suspend tenants."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView

from portal.core.errors import ApplicationError
from portal.tenants.forms import TenantCreateForm
from portal.tenants.models import Tenant
from portal.tenants.services import tenant_create, tenant_set_active


class OperatorRequiredMixin(UserPassesTestMixin):
    request: HttpRequest

    def test_func(self) -> bool:
        return bool(self.request.user.is_authenticated and self.request.user.is_superuser)


class TenantListView(OperatorRequiredMixin, ListView[Tenant]):
    template_name = "tenants/tenant_list.html"

    def get_queryset(self) -> QuerySet[Tenant]:
        return Tenant.objects.exclude(schema_name="public").prefetch_related("domains")


class TenantCreateView(OperatorRequiredMixin, FormView[TenantCreateForm]):
    template_name = "tenants/tenant_form.html"
    form_class = TenantCreateForm

    def form_valid(self, form: TenantCreateForm) -> HttpResponse:
        try:
            tenant = tenant_create(actor=self.request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, f"Created tenant {tenant.name}.")
        return redirect("dashboard")


@require_POST
def tenant_set_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    if not (request.user.is_authenticated and request.user.is_superuser):
        return redirect("login")
    tenant = get_object_or_404(Tenant.objects.exclude(schema_name="public"), pk=pk)
    active = request.POST.get("active") == "1"
    tenant_set_active(actor=request.user, tenant=tenant, active=active)
    messages.success(request, f"{tenant.name} is {'active' if active else 'suspended'}.")
    return redirect("dashboard")

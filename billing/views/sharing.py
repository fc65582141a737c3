"""Pages of billing views, teams and end customers: who sees which costs."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.views.generic import DetailView, ListView

from billing import services
from billing.apis import BILLING_VIEW_WRITERS, CUSTOMER_WRITERS, TEAM_WRITERS
from billing.forms import BillingViewForm, EndCustomerForm, TeamForm
from billing.models import BillingView, EndCustomer, Team
from billing.views.common import BillingFormView, WritersContextMixin
from portal.core.views import ScopedViewMixin
from portal.users.roles import Role

OU_PATH = "parent__parent__parent__parent"


class BillingViewListView(WritersContextMixin, ScopedViewMixin, ListView[BillingView]):
    model = BillingView
    write_roles = BILLING_VIEW_WRITERS
    template_name = "billing/billingview_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[BillingView]:
        return (
            super()
            .get_queryset()
            .select_related("owner")
            .annotate(
                payer_count=Count("payers", distinct=True),
                shared_count=Count("shared_with", distinct=True),
            )
            .order_by("name")  # a GROUP BY query drops the model's default ordering
        )


class BillingViewDetailView(WritersContextMixin, ScopedViewMixin, DetailView[BillingView]):
    model = BillingView
    write_roles = BILLING_VIEW_WRITERS
    template_name = "billing/billingview_detail.html"

    def get_queryset(self) -> QuerySet[BillingView]:
        return (
            super()
            .get_queryset()
            .select_related("owner")
            .prefetch_related("payers", "accounts", "shared_with")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        # The service lets only the owner or an admin change a view.
        context["can_change"] = context["can_write"] and (
            self.object.owner_id == user.pk or user.role == Role.ADMIN
        )
        context["units"] = self.object.ous.select_related("organization", OU_PATH)
        # End customers see resale only; the cost API's default metric is billed cost.
        context["chart_metric"] = "resale" if user.role == Role.END_CUSTOMER else ""
        return context


class BillingViewCreateView(BillingFormView):
    form_class = BillingViewForm
    write_roles = BILLING_VIEW_WRITERS
    template_name = "billing/form.html"
    success_url_name = "billingview-list"
    detail_url_name = "billingview-detail"
    extra_context = {"noun": "billing view"}

    def save(self, data: dict[str, Any]) -> Any:
        return services.billing_view_create(actor=self.request.user, **data)


class BillingViewChangeView(BillingFormView):
    model = BillingView
    form_class = BillingViewForm
    write_roles = BILLING_VIEW_WRITERS
    template_name = "billing/form.html"
    success_url_name = "billingview-list"
    detail_url_name = "billingview-detail"

    def save(self, data: dict[str, Any]) -> Any:
        return services.billing_view_update(
            actor=self.request.user, instance=self.get_object(), **data
        )


class TeamListView(WritersContextMixin, ScopedViewMixin, ListView[Team]):
    model = Team
    write_roles = TEAM_WRITERS
    template_name = "billing/team_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Team]:
        return (
            super()
            .get_queryset()
            .prefetch_related("leads")
            .annotate(member_count=Count("members", distinct=True))
            .order_by("name")  # a GROUP BY query drops the model's default ordering
        )


class TeamDetailView(WritersContextMixin, ScopedViewMixin, DetailView[Team]):
    model = Team
    write_roles = TEAM_WRITERS
    template_name = "billing/team_detail.html"

    def get_queryset(self) -> QuerySet[Team]:
        return super().get_queryset().prefetch_related("leads", "members")


class TeamCreateView(BillingFormView):
    form_class = TeamForm
    write_roles = TEAM_WRITERS
    template_name = "billing/form.html"
    success_url_name = "team-list"
    detail_url_name = "team-detail"
    extra_context = {"noun": "team"}

    def save(self, data: dict[str, Any]) -> Any:
        return services.team_create(actor=self.request.user, **data)


class TeamChangeView(BillingFormView):
    model = Team
    form_class = TeamForm
    write_roles = TEAM_WRITERS
    template_name = "billing/form.html"
    success_url_name = "team-list"
    detail_url_name = "team-detail"

    def save(self, data: dict[str, Any]) -> Any:
        return services.team_update(actor=self.request.user, instance=self.get_object(), **data)


class EndCustomerListView(WritersContextMixin, ScopedViewMixin, ListView[EndCustomer]):
    model = EndCustomer
    write_roles = CUSTOMER_WRITERS
    template_name = "billing/endcustomer_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[EndCustomer]:
        return (
            super()
            .get_queryset()
            .annotate(
                payer_count=Count("payers", distinct=True),
                account_count=Count("accounts", distinct=True),
            )
            .order_by("legal_name")  # a GROUP BY query drops the model's default ordering
        )


class EndCustomerDetailView(WritersContextMixin, ScopedViewMixin, DetailView[EndCustomer]):
    model = EndCustomer
    write_roles = CUSTOMER_WRITERS
    template_name = "billing/endcustomer_detail.html"

    def get_queryset(self) -> QuerySet[EndCustomer]:
        return (
            super()
            .get_queryset()
            .prefetch_related("payers__managed_organization", "accounts", "viewers")
        )


class EndCustomerCreateView(BillingFormView):
    form_class = EndCustomerForm
    write_roles = CUSTOMER_WRITERS
    template_name = "billing/form.html"
    success_url_name = "endcustomer-list"
    detail_url_name = "endcustomer-detail"
    extra_context = {"noun": "end customer"}

    def save(self, data: dict[str, Any]) -> Any:
        return services.end_customer_create(actor=self.request.user, **data)


class EndCustomerChangeView(BillingFormView):
    model = EndCustomer
    form_class = EndCustomerForm
    write_roles = CUSTOMER_WRITERS
    template_name = "billing/form.html"
    success_url_name = "endcustomer-list"
    detail_url_name = "endcustomer-detail"

    def save(self, data: dict[str, Any]) -> Any:
        return services.end_customer_update(
            actor=self.request.user, instance=self.get_object(), **data
        )

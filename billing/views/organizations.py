"""Pages of the organization tree: organizations, OUs and accounts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.views.generic import DetailView, ListView

from billing import services
from billing.apis import TREE_WRITERS
from billing.forms import (
    AccountChangeForm,
    AccountCreateForm,
    OrganizationChangeForm,
    OrganizationCreateForm,
    OUChangeForm,
    OUCreateForm,
)
from billing.models import Account, BillingTransfer, Organization, OrganizationalUnit
from billing.selectors import organization_tree
from billing.views.common import BillingFormView, WritersContextMixin
from portal.core.views import ScopedViewMixin

# Loads an OU's whole path (at most five levels) with the OU itself.
OU_PATH = "ou__parent__parent__parent__parent"


def _query_ids(request: Any, *names: str) -> dict[str, int]:
    """Ids given in the query string (`?organization=3&ou=7`), to start a form with."""
    return {name: int(request.GET[name]) for name in names if request.GET.get(name, "").isdigit()}


class OrganizationListView(WritersContextMixin, ScopedViewMixin, ListView[Organization]):
    model = Organization
    write_roles = TREE_WRITERS
    template_name = "billing/organization_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Organization]:
        return (
            super()
            .get_queryset()
            .select_related("management_account")
            .annotate(
                account_count=Count("accounts", distinct=True),
                unit_count=Count("units", distinct=True),
            )
            .order_by("name")  # a GROUP BY query drops the model's default ordering
        )


class OrganizationDetailView(WritersContextMixin, ScopedViewMixin, DetailView[Organization]):
    """The organization with its OU tree and the accounts in each OU."""

    model = Organization
    write_roles = TREE_WRITERS
    template_name = "billing/organization_detail.html"

    def get_queryset(self) -> QuerySet[Organization]:
        return super().get_queryset().select_related("management_account")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # The organization came through visible_to, and whoever sees an organization
        # sees its whole tree.
        context = super().get_context_data(**kwargs)
        context["tree"] = organization_tree(organization=self.object)
        return context


class OrganizationCreateView(BillingFormView):
    form_class = OrganizationCreateForm
    write_roles = TREE_WRITERS
    template_name = "billing/form.html"
    success_url_name = "organization-list"
    detail_url_name = "organization-detail"
    extra_context = {"noun": "organization"}

    def save(self, data: dict[str, Any]) -> Any:
        return services.organization_create(actor=self.request.user, **data)


class OrganizationChangeView(BillingFormView):
    model = Organization
    form_class = OrganizationChangeForm
    write_roles = TREE_WRITERS
    template_name = "billing/form.html"
    success_url_name = "organization-list"
    detail_url_name = "organization-detail"

    def save(self, data: dict[str, Any]) -> Any:
        return services.organization_update(
            actor=self.request.user, instance=self.get_object(), **data
        )


class _OUFormView(BillingFormView):
    write_roles = TREE_WRITERS
    template_name = "billing/form.html"
    success_url_name = "organization-list"

    def saved_url(self, saved: Any) -> str:
        return reverse("organization-detail", args=[saved.organization_id])

    def narrow_parents(self, form: forms.Form, organization_id: int | None) -> None:
        """Offer only the organization's own OUs as the parent, when it is known."""
        parent = form.fields["parent"]
        assert isinstance(parent, forms.ModelChoiceField)
        if organization_id is not None:
            parent.queryset = parent.queryset.filter(organization_id=organization_id)  # type: ignore[union-attr]


class OUCreateView(_OUFormView):
    """A new OU; `?organization=<id>&parent=<id>` fills the form in."""

    form_class = OUCreateForm
    extra_context = {"noun": "OU"}

    def get_initial(self) -> dict[str, Any]:
        return {**super().get_initial(), **_query_ids(self.request, "organization", "parent")}

    def get_form(self, form_class: Any = None) -> forms.Form:
        form = super().get_form(form_class)
        self.narrow_parents(form, _query_ids(self.request, "organization").get("organization"))
        return form

    def save(self, data: dict[str, Any]) -> Any:
        return services.ou_create(actor=self.request.user, **data)


class OUChangeView(_OUFormView):
    model = OrganizationalUnit
    form_class = OUChangeForm

    def get_form(self, form_class: Any = None) -> forms.Form:
        form = super().get_form(form_class)
        unit = self.get_object()
        self.narrow_parents(form, unit.organization_id)
        return form

    def save(self, data: dict[str, Any]) -> Any:
        return services.ou_update(actor=self.request.user, instance=self.get_object(), **data)


class AccountListView(WritersContextMixin, ScopedViewMixin, ListView[Account]):
    model = Account
    write_roles = TREE_WRITERS
    template_name = "billing/account_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Account]:
        return (
            super().get_queryset().select_related("organization", "managed_organization", OU_PATH)
        )


class AccountDetailView(WritersContextMixin, ScopedViewMixin, DetailView[Account]):
    """An account, where it sits in its organization, and its billing transfers."""

    model = Account
    write_roles = TREE_WRITERS
    template_name = "billing/account_detail.html"

    def get_queryset(self) -> QuerySet[Account]:
        return (
            super().get_queryset().select_related("organization", "managed_organization", OU_PATH)
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        transfers = BillingTransfer.objects.visible_to(self.request.user)
        context["transfers"] = transfers.filter(
            Q(source=self.object) | Q(destination=self.object)
        ).select_related("source", "destination")
        return context


class AccountCreateView(BillingFormView):
    """A new account; `?organization=<id>&ou=<id>` fills the form in."""

    form_class = AccountCreateForm
    write_roles = TREE_WRITERS
    template_name = "billing/form.html"
    success_url_name = "account-list"
    detail_url_name = "account-detail"
    extra_context = {"noun": "account"}

    def get_initial(self) -> dict[str, Any]:
        return {**super().get_initial(), **_query_ids(self.request, "organization", "ou")}

    def save(self, data: dict[str, Any]) -> Any:
        return services.account_create(actor=self.request.user, **data)


class AccountChangeView(BillingFormView):
    model = Account
    form_class = AccountChangeForm
    write_roles = TREE_WRITERS
    template_name = "billing/form.html"
    success_url_name = "account-list"
    detail_url_name = "account-detail"

    def save(self, data: dict[str, Any]) -> Any:
        return services.account_update(actor=self.request.user, instance=self.get_object(), **data)

"""REST endpoints of the organization tree, transfers, billing views, teams and customers.

Rows come only through `visible_to(user)`; every write calls one service.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from billing import services
from billing.models import (
    Account,
    BillingTransfer,
    BillingView,
    EndCustomer,
    Organization,
    OrganizationalUnit,
    Team,
)
from billing.serializers import (
    AccountCreateInputSerializer,
    AccountSerializer,
    AccountUpdateInputSerializer,
    BillingViewInputSerializer,
    BillingViewSerializer,
    EndCustomerInputSerializer,
    EndCustomerSerializer,
    OrganizationCreateInputSerializer,
    OrganizationDetailSerializer,
    OrganizationSerializer,
    OrganizationUpdateInputSerializer,
    OUCreateInputSerializer,
    OUSerializer,
    OUUpdateInputSerializer,
    TeamInputSerializer,
    TeamSerializer,
    TransferInviteInputSerializer,
    TransferSerializer,
    TransferWithdrawInputSerializer,
)
from portal.core.apis import ServiceViewSet
from portal.core.filters import QueryFilter, id_filter
from portal.core.permissions import ADMIN_ONLY
from portal.users.roles import Role

# Who may change what; the pages use the same sets.
TREE_WRITERS = ADMIN_ONLY
TRANSFER_WRITERS = frozenset({Role.ADMIN, Role.RESELLER_ADMIN})
CUSTOMER_WRITERS = frozenset({Role.ADMIN, Role.RESELLER_ADMIN})
BILLING_VIEW_WRITERS = frozenset({Role.ADMIN, Role.RESELLER_ADMIN, Role.FINANCE})
TEAM_WRITERS = ADMIN_ONLY


class BillingApi(ServiceViewSet):
    """A ServiceViewSet whose list loads related rows up front (constant query count).

    `update_input_serializer_class`, when set, validates changes instead of the create
    input; `query_filters` are the query parameters that narrow the list.
    """

    update_input_serializer_class: ClassVar[type[serializers.Serializer[Any]] | None] = None
    select_related: ClassVar[tuple[str, ...]] = ()
    prefetch_related: ClassVar[tuple[str, ...]] = ()
    query_filters: ClassVar[tuple[QueryFilter, ...]] = ()

    def get_queryset(self) -> models.QuerySet[Any]:
        rows = super().get_queryset()
        if self.select_related:
            rows = rows.select_related(*self.select_related)
        if self.prefetch_related:
            rows = rows.prefetch_related(*self.prefetch_related)
        return rows

    def _input(self, request: Request, *, partial: bool = False) -> dict[str, Any]:
        serializer_class = self.input_serializer_class
        if partial and self.update_input_serializer_class is not None:
            serializer_class = self.update_input_serializer_class
        serializer = serializer_class(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)


class OrganizationApi(BillingApi):
    """Organizations; one organization's answer includes its OU tree and accounts."""

    model = Organization
    write_roles = TREE_WRITERS
    serializer_class = OrganizationSerializer
    input_serializer_class = OrganizationCreateInputSerializer
    update_input_serializer_class = OrganizationUpdateInputSerializer
    create_service = services.organization_create
    update_service = services.organization_update
    select_related = ("management_account",)

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "retrieve":
            return OrganizationDetailSerializer
        return OrganizationSerializer


class OUApi(BillingApi):
    """Organizational units; `?organization=<id>` narrows the list."""

    model = OrganizationalUnit
    write_roles = TREE_WRITERS
    serializer_class = OUSerializer
    input_serializer_class = OUCreateInputSerializer
    update_input_serializer_class = OUUpdateInputSerializer
    create_service = services.ou_create
    update_service = services.ou_update
    query_filters = (
        id_filter("organization", "Only units of this organization."),
        id_filter("parent", "Only the children of this unit."),
    )


class AccountApi(BillingApi):
    """Accounts; `?organization=<id>` or `?ou=<id>` narrows the list."""

    model = Account
    write_roles = TREE_WRITERS
    serializer_class = AccountSerializer
    input_serializer_class = AccountCreateInputSerializer
    update_input_serializer_class = AccountUpdateInputSerializer
    create_service = services.account_create
    update_service = services.account_update
    select_related = ("managed_organization",)
    query_filters = (
        id_filter("organization", "Only accounts of this organization."),
        id_filter("ou", "Only accounts directly in this unit."),
    )


class TransferApi(BillingApi):
    """Billing transfers: invite with POST, then accept, decline, cancel or withdraw."""

    model = BillingTransfer
    write_roles = TRANSFER_WRITERS
    serializer_class = TransferSerializer
    input_serializer_class = TransferInviteInputSerializer
    create_service = services.billing_transfer_invite
    select_related = ("source", "destination", "invited_by")

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        transfer = services.billing_transfer_accept(actor=request.user, transfer=self.get_object())
        return self._render(transfer)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        transfer = services.billing_transfer_decline(actor=request.user, transfer=self.get_object())
        return self._render(transfer)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        transfer = services.billing_transfer_cancel(actor=request.user, transfer=self.get_object())
        return self._render(transfer)

    @extend_schema(request=TransferWithdrawInputSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str | None = None) -> Response:
        transfer = self.get_object()
        data = TransferWithdrawInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = services.billing_transfer_withdraw(
            actor=request.user, transfer=transfer, **data.validated_data
        )
        return self._render(transfer)


# Its rows depend on the user, whom the schema generator does not have: name the id's type.
_BILLING_VIEW_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


@extend_schema_view(
    **{
        name: extend_schema(parameters=[_BILLING_VIEW_ID])
        for name in ("retrieve", "update", "partial_update")
    }
)
class BillingViewApi(BillingApi):
    """Billing views: their owner and the people they are shared with see them."""

    model = BillingView
    write_roles = BILLING_VIEW_WRITERS
    serializer_class = BillingViewSerializer
    input_serializer_class = BillingViewInputSerializer
    create_service = services.billing_view_create
    update_service = services.billing_view_update
    select_related = ("owner",)
    prefetch_related = ("payers", "accounts", "ous", "shared_with")


class TeamApi(BillingApi):
    model = Team
    write_roles = TEAM_WRITERS
    serializer_class = TeamSerializer
    input_serializer_class = TeamInputSerializer
    create_service = services.team_create
    update_service = services.team_update
    prefetch_related = ("leads", "members")


class EndCustomerApi(BillingApi):
    model = EndCustomer
    write_roles = CUSTOMER_WRITERS
    serializer_class = EndCustomerSerializer
    input_serializer_class = EndCustomerInputSerializer
    create_service = services.end_customer_create
    update_service = services.end_customer_update
    prefetch_related = ("payers", "accounts", "viewers")

"""REST endpoints of invoices, invoice runs, their settings and the reconciliation.

Rows come only through `visible_to(user)`. Admins, finance and reseller admins read
everything, wholesale cost and margins included, and change the settings (seller
profile, pricing plans, billing units); admins and finance run, issue, void and credit.
End customers read their own issued documents, without wholesale cost or margins; team
leads get nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from invoices import selectors
from invoices.models import (
    BillingUnit,
    DocumentKind,
    Invoice,
    InvoiceRun,
    InvoiceRunStatus,
    InvoiceStatus,
    PricingPlan,
    SellerProfile,
)
from invoices.models.documents import DOCUMENT_READERS
from invoices.reconcile import reconcile
from invoices.selectors import MARGIN_ROLES, shows_margins
from invoices.serializers import (
    BillingUnitInputSerializer,
    BillingUnitSerializer,
    CreditNoteInputSerializer,
    InvoiceDetailSerializer,
    InvoiceMarginDetailSerializer,
    InvoiceMarginSerializer,
    InvoiceRunInputSerializer,
    InvoiceRunSerializer,
    InvoiceSerializer,
    IssueInputSerializer,
    PayInputSerializer,
    PricingPlanInputSerializer,
    PricingPlanSerializer,
    SellerProfileInputSerializer,
    SellerProfileSerializer,
    VoidInputSerializer,
    reconciliation_data,
)
from invoices.serializers.schema import (
    InvoiceAnswerSchema,
    InvoiceDetailAnswerSchema,
    ReconciliationSchema,
)
from invoices.services.corrections import credit_note_issue, invoice_mark_paid, invoice_void
from invoices.services.issuing import invoice_issue
from invoices.services.runs import invoice_run_request, invoice_runs_fail_stopped
from invoices.services.setup import (
    billing_unit_create,
    billing_unit_update,
    pricing_plan_create,
    pricing_plan_update,
    seller_profile_update,
)
from portal.core.apis import ScopedAPIMixin, ServiceViewSet
from portal.core.errors import ApplicationError
from portal.core.filters import choice_filter, id_filter, month_filter
from portal.users.roles import Role

# Who may change what; the pages use the same sets.
SETUP_WRITERS = frozenset({Role.ADMIN, Role.FINANCE, Role.RESELLER_ADMIN})
INVOICE_WRITERS = frozenset({Role.ADMIN, Role.FINANCE})


def _valid(serializer_class: Any, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class SellerProfileApi(ScopedAPIMixin, APIView):
    """The tenant as the issuer of its invoices: GET it, PUT or PATCH its fields."""

    model = SellerProfile
    read_roles = MARGIN_ROLES
    write_roles = SETUP_WRITERS

    @extend_schema(responses=SellerProfileSerializer)
    def get(self, request: Request) -> Response:
        profile = self.get_queryset().order_by("pk").first() or SellerProfile(legal_name="")
        return Response(SellerProfileSerializer(profile).data)

    @extend_schema(request=SellerProfileInputSerializer, responses=SellerProfileSerializer)
    def put(self, request: Request) -> Response:
        data = _valid(SellerProfileInputSerializer, request)
        profile = seller_profile_update(actor=request.user, **data)
        return Response(SellerProfileSerializer(profile).data)

    @extend_schema(request=SellerProfileInputSerializer, responses=SellerProfileSerializer)
    def patch(self, request: Request) -> Response:
        return self.put(request)


class PricingPlanApi(ServiceViewSet):
    """Pricing plans with their rules and charges; a change that names `rules` or
    `charges` replaces all of that kind."""

    model = PricingPlan
    read_roles = MARGIN_ROLES
    write_roles = SETUP_WRITERS
    serializer_class = PricingPlanSerializer
    input_serializer_class = PricingPlanInputSerializer
    create_service = pricing_plan_create
    update_service = pricing_plan_update

    def get_queryset(self) -> Any:
        return selectors.plans_for(self.request.user)


class BillingUnitApi(ServiceViewSet):
    """Who is invoiced: one unit per cost category value, with its plan and terms."""

    model = BillingUnit
    read_roles = MARGIN_ROLES
    write_roles = SETUP_WRITERS
    serializer_class = BillingUnitSerializer
    input_serializer_class = BillingUnitInputSerializer
    create_service = billing_unit_create
    update_service = billing_unit_update

    def get_queryset(self) -> Any:
        return selectors.units_for(self.request.user)


class InvoiceRunApi(
    ScopedAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Invoice runs: POST {period, issue} queues one (202); GET shows its progress."""

    model = InvoiceRun
    read_roles = MARGIN_ROLES
    write_roles = INVOICE_WRITERS
    serializer_class = InvoiceRunSerializer
    query_filters = (month_filter("period", "A billing period, YYYY-MM."),)

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("created_by")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        answer = super().list(request, *args, **kwargs)
        # None is listed running whose process is gone; looked for only when one is shown
        # running, so a list costs no more queries.
        shown = answer.data["results"] if answer.data else []
        running = any(row["status"] == InvoiceRunStatus.RUNNING for row in shown)
        if running and invoice_runs_fail_stopped():
            answer = super().list(request, *args, **kwargs)
        return answer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        invoice_runs_fail_stopped()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=InvoiceRunInputSerializer, responses={202: InvoiceRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _valid(InvoiceRunInputSerializer, request)
        run = invoice_run_request(actor=request.user, **data)
        return Response(InvoiceRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(responses=InvoiceAnswerSchema(many=True)),
    retrieve=extend_schema(responses=InvoiceDetailAnswerSchema),
)
class InvoiceApi(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Invoices and credit notes, filtered by `period` (YYYY-MM), `status`, `kind`, `unit`.

    POST `<id>/issue/` {issue_date?}, `<id>/void/` {reason}, `<id>/pay/` {paid_on?,
    reference?}, `<id>/credit-notes/` {amount? (before tax; none credits it all), reason}.
    """

    model = Invoice
    read_roles = DOCUMENT_READERS
    write_roles = INVOICE_WRITERS
    query_filters = (
        month_filter("period", "A billing period, YYYY-MM."),
        choice_filter("status", InvoiceStatus.values),
        choice_filter("kind", DocumentKind.values),
        id_filter("unit", "A billing unit's id."),
    )

    def get_queryset(self) -> Any:
        rows = selectors.invoices_for(self.request.user)
        if self.action != "list":
            rows = selectors.invoice_with_lines(rows)
        return rows

    def get_serializer_class(self) -> Any:
        margins = shows_margins(self.request.user)
        if self.action == "list":
            return InvoiceMarginSerializer if margins else InvoiceSerializer
        return InvoiceMarginDetailSerializer if margins else InvoiceDetailSerializer

    def _answer(self, invoice: Invoice, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.invoice_with_lines(
            selectors.invoices_for(self.request.user).filter(pk=invoice.pk)
        ).get()
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(request=IssueInputSerializer, responses=InvoiceDetailAnswerSchema)
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(IssueInputSerializer, request)
        return self._answer(invoice_issue(actor=request.user, invoice=self.get_object(), **data))

    @extend_schema(request=VoidInputSerializer, responses=InvoiceDetailAnswerSchema)
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(VoidInputSerializer, request)
        return self._answer(invoice_void(actor=request.user, invoice=self.get_object(), **data))

    @extend_schema(request=PayInputSerializer, responses=InvoiceDetailAnswerSchema)
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(PayInputSerializer, request)
        invoice = invoice_mark_paid(actor=request.user, invoice=self.get_object(), **data)
        return self._answer(invoice)

    @extend_schema(request=CreditNoteInputSerializer, responses={201: InvoiceDetailAnswerSchema})
    @action(detail=True, methods=["post"], url_path="credit-notes")
    def credit_notes(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(CreditNoteInputSerializer, request)
        note = credit_note_issue(actor=request.user, invoice=self.get_object(), **data)
        return self._answer(note, status.HTTP_201_CREATED)


class ReconciliationApi(ScopedAPIMixin, APIView):
    """GET `?period=YYYY-MM`: the period's bill against its invoices, per cost category."""

    # The figures are of billing units' categories: readable with the units.
    model = BillingUnit
    read_roles = MARGIN_ROLES

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, required=True, description="YYYY-MM"),
        ],
        responses=ReconciliationSchema,
    )
    def get(self, request: Request) -> Response:
        period = selectors.month_param(request.query_params.get("period"))
        if period is None:
            raise ApplicationError(
                "Name the billing period: ?period=YYYY-MM.", code="required", field="period"
            )
        return Response(reconciliation_data(reconcile(period)))

"""REST endpoints of cost categories, their rule versions and allocation runs.

Rows come only through `visible_to(user)` (admins, finance and reseller admins read);
admins write, each write through one service.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from allocation import services
from allocation.engine.run import allocation_runs_fail_stopped
from allocation.explain import explain_line_item, explain_value
from allocation.models import ALLOCATION_READERS, AllocationRun, CostCategory, RuleSet
from allocation.preview import allocation_preview
from allocation.serializers import (
    AllocationRunDetailSerializer,
    AllocationRunSerializer,
    CostCategoryInputSerializer,
    CostCategorySerializer,
    LineItemExplanationSerializer,
    PreviewRequestSerializer,
    PreviewSerializer,
    RuleSetInputSerializer,
    RuleSetSerializer,
    RunRequestSerializer,
    ValueExplanationSerializer,
)
from allocation.value_line_items import largest_line_items
from portal.core.apis import ScopedAPIMixin, ServiceViewSet
from portal.core.filters import id_filter, id_param, month_filter
from portal.core.permissions import ADMIN_ONLY

CATEGORY_WRITERS = ADMIN_ONLY


class CostCategoryApi(ServiceViewSet):
    """Cost categories; `<id>/versions/` lists their rule versions (GET) or adds one (POST);
    `<id>/runs/` queues an allocation run (POST); `<id>/preview/` shows what a proposed
    version would change (POST, nothing kept)."""

    model = CostCategory
    write_roles = CATEGORY_WRITERS
    serializer_class = CostCategorySerializer
    input_serializer_class = CostCategoryInputSerializer
    paged_actions = ("list", "versions")  # pages as every list does
    create_service = services.cost_category_create
    update_service = services.cost_category_update

    @extend_schema(methods=["GET"], request=None, responses=RuleSetSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=RuleSetInputSerializer, responses={201: RuleSetSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        category = self.get_object()
        if request.method == "POST":
            data = RuleSetInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            ruleset = services.ruleset_create(
                actor=request.user, category=category, **data.validated_data
            )
            return Response(RuleSetSerializer(ruleset).data, status=status.HTTP_201_CREATED)
        rows: Any = RuleSet.objects.visible_to(request.user)
        rows = rows.filter(category=category).select_related("category", "created_by")
        rows = rows.prefetch_related("rules", "splits")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RuleSetSerializer(page, many=True).data)

    @extend_schema(request=RunRequestSerializer, responses={202: AllocationRunSerializer})
    @action(detail=True, methods=["post"])
    def runs(self, request: Request, pk: str | None = None) -> Response:
        category = self.get_object()
        data = RunRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = data.validated_data["period"]
        run = services.allocation_run_request(actor=request.user, category=category, period=period)
        body = AllocationRunSerializer(run).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/allocation-runs/{run.pk}/"},
        )

    @extend_schema(request=PreviewRequestSerializer, responses=PreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        category = self.get_object()
        data = PreviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer = allocation_preview(actor=request.user, category=category, **data.validated_data)
        return Response(PreviewSerializer(answer).data)


class AllocationRunApi(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Allocation runs, newest period first; `?category=<id>&period=YYYY-MM` filter them.

    One run shows its totals per value; `<id>/explain/?value=...` or `?line_item=<id>`
    says how a value's total or one line item's value came about.
    """

    # A run is visible with its category: the scope is the category's.
    model = CostCategory
    read_roles = ALLOCATION_READERS
    query_filters = (
        id_filter("category", "Only runs of this cost category."),
        month_filter("period", "Only runs of this month, YYYY-MM."),
    )

    def get_queryset(self) -> Any:
        categories = super().get_queryset()
        rows = AllocationRun.objects.filter(category__in=categories)
        return rows.select_related("category", "ruleset", "created_by")

    def get_serializer_class(self) -> Any:
        if self.action == "retrieve":
            return AllocationRunDetailSerializer
        return AllocationRunSerializer

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        allocation_runs_fail_stopped()  # none is listed running whose process is gone
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        allocation_runs_fail_stopped()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("value", str, description="A value of the category to explain."),
            OpenApiParameter("line_item", int, description="A line item to explain, by id."),
        ],
        responses=PolymorphicProxySerializer(
            component_name="Explanation",
            serializers=[ValueExplanationSerializer, LineItemExplanationSerializer],
            resource_type_field_name=None,
        ),
    )
    @action(detail=True, methods=["get"])
    def explain(self, request: Request, pk: str | None = None) -> Response:
        run = get_object_or_404(self.get_queryset(), pk=pk)
        params = request.query_params
        if params.get("line_item"):
            answer = explain_line_item(run, id_param(params["line_item"], "line_item"))
            return Response(LineItemExplanationSerializer(answer).data)
        if "value" not in params:
            raise ValidationError({"value": ["Name a value, or a line item by its id."]})
        answer = explain_value(run, params["value"])
        answer["largest_line_items"] = largest_line_items(run, params["value"])
        return Response(ValueExplanationSerializer(answer).data)

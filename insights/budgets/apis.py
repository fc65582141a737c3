"""Budgets in the REST API: /api/v1/budgets/ with each budget's current spend, one budget,
and its alerts. Read as on the pages (team leads their teams' budgets); admins and
finance write, through the budget services."""

from __future__ import annotations

from typing import Any

from django.utils.timezone import localdate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from insights.budgets import services
from insights.budgets.access import BUDGET_READERS, BUDGET_WRITERS
from insights.budgets.figures import budget_figures, visible_budgets
from insights.budgets.inputs import DEFAULT_THRESHOLDS, only_the_scopes_rows
from insights.budgets.serializers import (
    AlertSerializer,
    BudgetInputSerializer,
    BudgetSerializer,
)
from insights.models import Budget, BudgetAlert
from portal.api_schema import NOT_JSON
from portal.core.apis import ScopedAPIMixin
from portal.core.parsers import BoundedJSONParser


class BudgetApi(
    ScopedAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Budgets with the spend of their current period (up to yesterday), its forecast and
    status against the thresholds; `<id>/alerts/` lists the alerts a budget fired."""

    model = Budget
    read_roles = BUDGET_READERS
    write_roles = BUDGET_WRITERS
    parser_classes = [BoundedJSONParser]
    serializer_class = BudgetSerializer
    paged_actions = ("list", "alerts")

    def get_queryset(self) -> Any:
        return visible_budgets(self.request.user)

    def _answer(self, budget: Budget, code: int = status.HTTP_200_OK) -> Response:
        budget = self.get_queryset().get(pk=budget.pk)  # its relations and thresholds loaded
        figures = budget_figures([budget], localdate())[0]
        return Response(BudgetSerializer(figures).data, status=code)

    @extend_schema(summary="List budgets with their current spend")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        figures = budget_figures(page or [], localdate())
        rows = BudgetSerializer(figures, many=True).data  # type: ignore[arg-type]
        return self.get_paginated_response(rows)

    @extend_schema(summary="A budget with its current spend")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._answer(self.get_object())

    @extend_schema(
        request=BudgetInputSerializer,
        responses={201: BudgetSerializer, 415: NOT_JSON},
        summary="Create a budget with its thresholds",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = BudgetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        thresholds = fields.pop("thresholds", DEFAULT_THRESHOLDS)
        fields = only_the_scopes_rows(fields, fields["scope"], fields["period"])
        budget = services.budget_create(actor=request.user, thresholds=thresholds, **fields)
        return self._answer(budget, status.HTTP_201_CREATED)

    @extend_schema(
        request=BudgetInputSerializer,
        responses={200: BudgetSerializer, 415: NOT_JSON},
        summary="Change a budget; thresholds, when given, replace its own",
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        budget = self.get_object()
        data = BudgetInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        thresholds = fields.pop("thresholds", None)
        scope = fields.get("scope", budget.scope)
        period = fields.get("period", budget.period)
        fields = only_the_scopes_rows(fields, scope, period)
        budget = services.budget_update(
            actor=request.user, budget=budget, thresholds=thresholds, **fields
        )
        return self._answer(budget)

    @extend_schema(responses={204: None}, summary="Delete a budget with its alerts")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.budget_delete(actor=request.user, budget=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses=AlertSerializer(many=True), summary="The alerts a budget fired, newest first"
    )
    @action(detail=True, methods=["get"])
    def alerts(self, request: Request, pk: str | None = None) -> Response:
        budget = self.get_object()
        rows = BudgetAlert.objects.filter(threshold__budget=budget).select_related("threshold")
        page = self.paginate_queryset(rows.order_by("-fired_at", "-pk"))
        return self.get_paginated_response(AlertSerializer(page, many=True).data)

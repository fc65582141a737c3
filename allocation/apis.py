"""REST endpoints of cost categories and their rule versions.

Rows come only through `visible_to(user)` (admins, finance and reseller admins read);
admins write, each write through one service.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from allocation import services
from allocation.models import CostCategory, RuleSet
from allocation.serializers import (
    CostCategoryInputSerializer,
    CostCategorySerializer,
    RuleSetInputSerializer,
    RuleSetSerializer,
)
from portal.core.apis import ServiceViewSet
from portal.core.permissions import ADMIN_ONLY

CATEGORY_WRITERS = ADMIN_ONLY


class CostCategoryApi(ServiceViewSet):
    """Cost categories; `<id>/versions/` lists their rule versions (GET) or adds one (POST)."""

    model = CostCategory
    write_roles = CATEGORY_WRITERS
    serializer_class = CostCategorySerializer
    input_serializer_class = CostCategoryInputSerializer
    create_service = services.cost_category_create
    update_service = services.cost_category_update

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
        return Response(RuleSetSerializer(rows, many=True).data)

"""REST shapes of cost categories and their rule versions.

Input serializers only check the shape of a request; the rules themselves are checked by
`allocation.services.ruleset_create`, so the API and other callers refuse alike.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from allocation.models import CostCategory, RuleSet
from allocation.selectors import ruleset_data


class CostCategorySerializer(serializers.ModelSerializer[CostCategory]):
    fallback_value = serializers.CharField(read_only=True)

    class Meta:
        model = CostCategory
        fields = ["id", "name", "default_value", "fallback_value", "created_at"]


class CostCategoryInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    default_value = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RuleSetSerializer(serializers.ModelSerializer[RuleSet]):
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = RuleSet
        fields = ["id", "number", "effective_month", "created_at", "created_by"]

    def to_representation(self, instance: RuleSet) -> dict[str, Any]:
        data = dict(super().to_representation(instance))
        stored = ruleset_data(instance)
        data.update(rules=stored["rules"], splits=stored["splits"])
        return data


class RuleSetInputSerializer(serializers.Serializer[Any]):
    effective_month = serializers.DateField()
    rules = serializers.ListField(child=serializers.JSONField(), allow_empty=True)
    splits = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
